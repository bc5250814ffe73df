import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/free-port.js';
import type { PublishStatus } from '../../src/domain/run-contract/index.js';
import { execa } from 'execa';
import { CLI, cli } from '../support/cli.js';
import { makeCompose } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { withConfiguredWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

describe('compose-publisher CLI', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  const transcript: string[] = [];

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('cli');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  function writeConfig(taskQueue: string, registryNamespace: string, waitForOverride = '3s'): string {
    return writeHarnessConfig(dir, {
      taskQueue,
      registryNamespace,
      extra: `\n[releases]\nlatest = "40"\n\n[gate]\nwait_for_override = "${waitForOverride}"\n`,
    });
  }

  it('publishes with exit 0, never starts a second run for the same compose, and exits 3 when a repository is blocked', async () => {
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    const good = await makeCompose(
      { composeId: 'Fedora-40-20240801.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage },
    );
    const partial = await makeCompose(
      { composeId: 'Fedora-40-20240802.n.0', images: { Container_Base: ['x86_64'] }, format: '2.0' },
      { dir, storage },
    );
    const config = writeConfig(uniqueTaskQueue('cli'), 'cli');
    await withConfiguredWorker(env, dir, config, async () => {
      const published = await cli(['publish', good.root, '--wait', '--json'], config);
      expect(published.stderr).toBe('');
      expect(published.exitCode).toBe(0);
      expect(JSON.parse(published.stdout)).toMatchObject({
        composeId: good.composeId,
        phase: 'done',
        repositories: [{ repository: 'fedora', decision: 'pass' }],
      });

      const again = await cli(['publish', good.root], config);
      expect(again.exitCode).toBe(0);
      expect(again.stdout).toBe(`already exists, not started again: publish:${good.composeId}`);

      const status = await cli(['status', good.composeId, '--json'], config);
      expect(status.exitCode).toBe(0);
      expect((JSON.parse(status.stdout) as PublishStatus).repositories).toEqual([
        expect.objectContaining({
          repository: 'fedora',
          decision: 'pass',
          built: ['amd64', 'arm64'],
          published: [],
          missing: [],
        }),
      ]);

      const blocked = await cli(['publish', partial.root, '--wait'], config);
      expect(blocked.exitCode).toBe(3);
      expect(blocked.stdout).toMatch(/fedora\s+blocked\s+amd64\s+amd64 arm64\s+arm64/);

      const table = await cli(['status', partial.composeId], config);
      expect(table.exitCode).toBe(3);
      expect(table.stdout).toContain(`compose ${partial.composeId}`);
    });
  });

  it('lets an operator override a blocked run: publish → blocked → status → override → status → list', async () => {
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    const good = await makeCompose(
      { composeId: 'Fedora-40-20240811.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage },
    );
    const partial = await makeCompose(
      { composeId: 'Fedora-40-20240812.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage },
    );
    const config = writeConfig(uniqueTaskQueue('cli'), 'cli-override', '10m');
    await withConfiguredWorker(env, dir, config, async () => {
      expect((await cli(['publish', good.root, '--wait'], config)).exitCode).toBe(0);

      const blocked = await cli(['publish', partial.root, '--wait'], config);
      transcript.push(
        `$ compose-publisher publish ${partial.root} --wait   # exit ${blocked.exitCode}`,
        blocked.stdout,
      );
      expect(blocked.exitCode).toBe(3);
      expect(blocked.stdout).toContain('phase awaiting-override');
      expect(blocked.stdout).toContain(`compose-publisher override ${partial.composeId} --repository fedora`);

      const rejected = await cli(
        ['override', partial.composeId, '--mode', 'hybrid', '--reason', 'x', '--repository', 'fedora-minimal'],
        config,
      );
      expect(rejected.exitCode).toBe(2);
      expect(rejected.stderr).toContain('override rejected: repository "fedora-minimal" is not part of this run');

      const status = await cli(['status', partial.composeId], config);
      transcript.push(`$ compose-publisher status ${partial.composeId}   # exit ${status.exitCode}`, status.stdout);
      expect(status.exitCode).toBe(3);

      // status prints one command per mode; each pastes into sh as one command (checked by sh), and the hybrid one,
      // run as printed (with --operator added), is accepted.
      const printed = status.stdout
        .split('\n')
        .filter((line) => line.trim().startsWith('compose-publisher override '))
        .map((line) => line.trim());
      expect(printed.map((line) => /--mode (\S+)/.exec(line)?.[1])).toEqual(['hybrid', 'publish-available', 'skip']);
      for (const line of printed) {
        const words = await execa('sh', ['-c', `set -- ${line}\nprintf '%s\\n' "$@"`]);
        expect(words.stdout.split('\n')).toEqual([
          'compose-publisher',
          'override',
          partial.composeId,
          '--repository',
          'fedora',
          '--mode',
          /--mode (\S+)/.exec(line)![1],
          '--reason',
          '…',
        ]);
      }
      const hybrid = `${printed[0]!.replace(/\s+#.*$/, '').replace(/^compose-publisher /, `node ${CLI} --config ${config} `)} --operator alice`;
      const override = await execa('sh', ['-c', hybrid], {
        reject: false,
        env: { COMPOSE_PUBLISHER_CONFIG: undefined },
      });
      transcript.push(`$ ${printed[0]} --operator alice   # exit ${override.exitCode}`, override.stdout);
      expect(override.exitCode, override.stderr).toBe(0);
      expect(override.stdout).toMatch(/^accepted: fedora → hybrid by alice at .*: …$/);

      const finished = await cli(['publish', partial.root, '--wait'], config);
      expect(finished.exitCode).toBe(0);
      const after = await cli(['status', partial.composeId], config);
      transcript.push(`$ compose-publisher status ${partial.composeId}   # exit ${after.exitCode}`, after.stdout);
      expect(after.exitCode).toBe(0);
      expect(after.stdout).toMatch(/fedora\s+overridden\s+amd64\s+amd64 arm64\s+arm64/);
      expect(after.stdout).toContain('fedora: hybrid by alice');

      const list = await cli(['list', '--decision', 'overridden', '--release', '40', '--json'], config);
      expect(list.exitCode).toBe(0);
      expect((JSON.parse(list.stdout) as Array<{ composeId: string }>).map((r) => r.composeId)).toContain(
        partial.composeId,
      );
    });
    if (process.env.PRINT_CLI_TRANSCRIPT) console.log(transcript.join('\n'));
  });

  it('exits 2 with the key named for a bad config, a missing config, an unknown compose and bad usage', async () => {
    const bad = join(dir, 'bad.toml');
    writeFileSync(
      bad,
      '[[registries]]\nurl = "Not A Registry"\n[repositories]\nContainer_Base = "fedora"\n[architectures]\nx86_64 = "amd64"\n',
    );
    const badConfig = await cli(['status', 'Fedora-40-20240801.n.0'], bad);
    expect(badConfig.exitCode).toBe(2);
    expect(badConfig.stderr).toContain('[registries][0].url');

    const noConfig = await cli(['status', 'x'], undefined, { cwd: dir });
    expect(noConfig.exitCode).toBe(2);
    expect(noConfig.stderr).toContain('pass --config FILE');

    const config = writeConfig('cli-unused', 'cli-unused');
    const missing = await cli(['publish', join(dir, 'no-such-compose')], config);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(
      /no compose at .*no-such-compose: neither .*\/metadata\/composeinfo\.json nor .*\/compose\/metadata\/composeinfo\.json exists/,
    );

    // publish reads the location before it asks Temporal anything: with Temporal unreachable, a wrong location is
    // still named (2), an unsupported scheme too (2), and a compose host that does not answer is not bad usage (1).
    const noTemporal = join(dir, 'no-temporal.toml');
    writeFileSync(noTemporal, readFileSync(config, 'utf8').replace(/^address = .*$/m, 'address = "127.0.0.1:1"'));
    const wrongPlace = await cli(['publish', join(dir, 'no-such-compose')], noTemporal);
    expect([wrongPlace.exitCode, wrongPlace.stderr]).toEqual([
      2,
      expect.stringMatching(/no compose at .*no-such-compose/) as unknown,
    ]);
    const ftp = await cli(['publish', 'ftp://example.org/pub/compose'], noTemporal);
    expect([ftp.exitCode, ftp.stderr]).toEqual([
      2,
      expect.stringContaining(
        'is a ftp:// URL, which compose-publisher cannot read; give an http(s):// URL or a local path',
      ) as unknown,
    ]);
    const silentHost = await cli(['publish', `http://127.0.0.1:${await freePort()}/compose`], noTemporal);
    expect(silentHost.exitCode).toBe(1);
    expect(silentHost.stderr).toMatch(/cannot read the compose at .*ECONNREFUSED/);
    expect(silentHost.stderr).not.toContain('will retry');

    const usage = await cli(['publish']);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("missing required argument 'location'");

    const help = await cli(['--help']);
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Exit codes');
  });

  it('publish --wait says so when no worker polls the task queue, instead of waiting silently', async () => {
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20240803.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage },
    );
    const config = writeConfig(uniqueTaskQueue('no-worker'), 'cli-no-worker');
    const waiting = cli(['publish', compose.root, '--wait'], config);
    let stderr = '';
    waiting.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    try {
      for (let i = 0; i < 300 && !stderr.includes('no worker polls'); i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stderr).toMatch(
        /no worker polls task queue no-worker-\d+-\d+: the run waits until one does; start one with `compose-publisher worker`/,
      );
    } finally {
      waiting.kill('SIGKILL');
      await waiting;
      await env.client.workflow.getHandle(`publish:${compose.composeId}`).terminate('test over');
    }
  });
});
