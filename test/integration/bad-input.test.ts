import { createHash } from 'node:crypto';
import { readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { cli } from '../support/cli.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { withConfiguredWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

type ImagesJson = {
  payload: {
    compose: { id: string };
    images: Record<string, Record<string, Array<{ path: string; size: number; checksums: Record<string, string> }>>>;
  };
};

/** Edits a made compose's files in place. */
const metadata = (compose: MadeCompose, file: 'images' | 'composeinfo') =>
  join(compose.root, 'metadata', `${file}.json`);
function editImages(compose: MadeCompose, edit: (document: ImagesJson) => void): void {
  const document = JSON.parse(readFileSync(metadata(compose, 'images'), 'utf8')) as ImagesJson;
  edit(document);
  writeFileSync(metadata(compose, 'images'), JSON.stringify(document));
}
/** Makes images.json agree with whatever the image file now holds, so only the file's content is wrong. */
function relist(compose: MadeCompose): void {
  editImages(compose, (document) => {
    const entry = document.payload.images.Container!.x86_64![0]!;
    const bytes = readFileSync(join(compose.root, entry.path));
    entry.size = bytes.length;
    entry.checksums.sha256 = createHash('sha256').update(bytes).digest('hex');
  });
}
const imageFile = (compose: MadeCompose) => compose.images[0]!.path;
function setComposeId(compose: MadeCompose, id: string): void {
  const info = JSON.parse(readFileSync(metadata(compose, 'composeinfo'), 'utf8')) as {
    payload: { compose: { id: string } };
  };
  info.payload.compose.id = id;
  writeFileSync(metadata(compose, 'composeinfo'), JSON.stringify(info));
}

interface BadInput {
  name: string;
  composeId: string;
  /** Breaks the compose; returns the location to publish (default: the compose). */
  breakIt: (compose: MadeCompose) => string | void;
  exit: number;
  message: RegExp;
}

// Each case: a compose broken one way, published with `compose-publisher publish --wait --json`.
const CASES: BadInput[] = [
  {
    name: 'a corrupt xz archive whose checksum images.json agrees with',
    composeId: 'Fedora-40-20231101.n.0',
    breakIt: (compose) => {
      truncateSync(imageFile(compose), Math.floor(compose.images[0]!.size / 2));
      relist(compose);
    },
    exit: 1,
    message: /cannot be decompressed with xz, though its sha256 matches images\.json/,
  },
  {
    name: 'an image file that does not exist',
    composeId: 'Fedora-40-20231102.n.0',
    breakIt: (compose) => rmSync(imageFile(compose)),
    exit: 1,
    message: /does not exist \(ENOENT\)/,
  },
  {
    name: 'an image file of another size than images.json says',
    composeId: 'Fedora-40-20231103.n.0',
    breakIt: (compose) => editImages(compose, (d) => void (d.payload.images.Container!.x86_64![0]!.size += 1)),
    exit: 1,
    message: /has \d+ bytes, but images\.json says \d+/,
  },
  {
    name: 'invalid UTF-8 in images.json',
    composeId: 'Fedora-40-20231104.n.0',
    breakIt: (compose) =>
      writeFileSync(
        metadata(compose, 'images'),
        Buffer.concat([
          Buffer.from('{"header": {"type": "productmd.images", "version": "1.2"}, "x": "'),
          Buffer.from([0xc3, 0x28]),
          Buffer.from('"}'),
        ]),
      ),
    exit: 1,
    message: /images\.json is not valid UTF-8 \(the first bad byte is at offset 6[0-9]\)/,
  },
  {
    name: 'an images.json that is some other productmd file',
    composeId: 'Fedora-40-20231105.n.0',
    breakIt: (compose) => writeFileSync(metadata(compose, 'images'), readFileSync(metadata(compose, 'composeinfo'))),
    exit: 1,
    message: /images\.json: header\.type is "productmd\.composeinfo", expected "productmd\.images"/,
  },
  {
    name: 'an images.json of another compose',
    composeId: 'Fedora-40-20231106.n.0',
    breakIt: (compose) => editImages(compose, (d) => void (d.payload.compose.id = 'Fedora-40-20231001.n.0')),
    exit: 1,
    message: /payload\.compose\.id is "Fedora-40-20231001\.n\.0", but composeinfo\.json says Fedora-40-20231106\.n\.0/,
  },
  {
    name: 'an image that is a symlink to a file outside the compose',
    composeId: 'Fedora-40-20231107.n.0',
    breakIt: (compose) => {
      rmSync(imageFile(compose));
      symlinkSync('/etc/hostname', imageFile(compose));
    },
    exit: 1,
    message: /leads outside the compose \(to \/etc\/hostname\)/,
  },
  {
    name: 'a compose dated in the future',
    composeId: 'Fedora-40-20991231.n.0',
    breakIt: () => undefined,
    exit: 2,
    message: /is dated 20991231, more than a day after now/,
  },
  {
    name: 'a compose id with a quote and a comma (annotation injection)',
    composeId: 'Fedora-40-20231108.n.0',
    breakIt: (compose) => setComposeId(compose, 'Fedora-40",x=y-20231108.n.0'),
    exit: 2,
    message: /payload\.compose\.id "Fedora-40\\",x=y-20231108\.n\.0" is not a compose id/,
  },
  {
    name: 'a 1,100-character compose id',
    composeId: 'Fedora-40-20231109.n.0',
    breakIt: (compose) => setComposeId(compose, `Fedora-${'4'.repeat(1080)}-20231109.n.0`),
    exit: 2,
    message: /is not a compose id: expected .* at most 100 characters/,
  },
  {
    name: 'a compose URL with a query',
    composeId: 'Fedora-40-20231110.n.0',
    breakIt: () => 'http://127.0.0.1:9/compose/?x=1',
    exit: 2,
    message: /has a query \(\?x=1\)/,
  },
  {
    name: 'a compose that is not there',
    composeId: 'Fedora-40-20231111.n.0',
    breakIt: (compose) => join(compose.root, 'nothing'),
    exit: 2,
    message: /no compose at .*: neither .* nor .* exists/,
  },
];

describe('bad input publishes nothing, fails fast and says why (compose-publisher publish --wait --json)', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  const results: string[] = [];

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('bad-input');
  });
  afterAll(async () => {
    if (process.env.PRINT_BAD_INPUT_TABLE)
      console.log(
        ['| input | exit | message | seconds | registry |', '| --- | --- | --- | --- | --- |', ...results].join('\n'),
      );
    await env?.teardown();
  });

  it('refuses every case in the table', async () => {
    const namespace = `bad-input-${Date.now()}`;
    const config = writeHarnessConfig(dir, {
      taskQueue: uniqueTaskQueue('bad-input'),
      registryNamespace: namespace,
      extra: '\n[releases]\nlatest = "40"\n',
    });
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    await withConfiguredWorker(env, dir, config, async () => {
      for (const bad of CASES) {
        const compose = await makeCompose(
          { composeId: bad.composeId, images: { Container_Base: ['x86_64'] }, format: '1.2' },
          { dir: join(dir, bad.composeId), storage },
        );
        const location = bad.breakIt(compose) ?? compose.root;
        const started = Date.now();
        const run = await cli(['publish', location, '--wait', '--json'], config);
        const seconds = (Date.now() - started) / 1000;
        const said =
          run.exitCode === 2
            ? run.stderr
            : ((JSON.parse(run.stdout || '{}') as { error?: string }).error ?? run.stderr);
        expect(run.exitCode, `${bad.name}: ${run.stdout}${run.stderr}`).toBe(bad.exit);
        expect(said, bad.name).toMatch(bad.message);
        expect(said, bad.name).not.toMatch(/Activity task failed|\n\s+at /);
        expect(seconds, bad.name).toBeLessThan(30);
        for (const tag of ['40', 'latest', '40-x86_64'])
          expect(
            await inspectRemote(`${inject('registryHost')}/${namespace}/fedora:${tag}`, { tlsVerify: false }),
          ).toEqual({ kind: 'absent' });
        results.push(
          `| ${bad.name} | ${run.exitCode} | ${said
            .split('\n')[0]!
            .replace(/^compose-publisher: /, '')
            .replaceAll(dir, '…')
            .slice(0, 220)} | ${seconds.toFixed(1)} | unchanged |`,
        );
      }
    });
  }, 300_000);
});
