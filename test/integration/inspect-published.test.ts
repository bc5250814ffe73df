// inspectPublished alone, against the harness registry behind a proxy that can break its tag list: one `list-tags`
// spares reading tags that are not there, and a list that fails never hides a tag the gate or the arch tags rest on.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { activityEnvironment } from '../../src/activities/environment.js';
import { makeInspectPublished, type InspectPublishedInput } from '../../src/activities/inspect-published.js';
import type { PublishedTag } from '../../src/domain/types.js';
import { copyToRegistry } from '../../src/tools/skopeo.js';
import { makeCompose } from '../support/compose-factory.js';
import { testSettings } from '../support/publisher.js';
import { scratchSubdir } from '../support/temporal.js';

type TagListMode = 'pass' | '404' | '500';

/** A proxy to the registry that answers tag lists as `mode` says and records every manifest request. */
async function tagListProxy(target: string) {
  const state = { mode: 'pass' as TagListMode, manifestRequests: [] as string[] };
  const [host, port] = target.split(':');
  const server: Server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    if (/\/tags\/list(\?|$)/.test(path) && state.mode !== 'pass') {
      outgoing.writeHead(state.mode === '404' ? 404 : 500, { 'content-type': 'application/json' });
      outgoing.end(JSON.stringify({ errors: [{ code: state.mode === '404' ? 'NAME_UNKNOWN' : 'UNKNOWN' }] }));
      return;
    }
    if (path.includes('/manifests/')) state.manifestRequests.push(`${incoming.method} ${path}`);
    const forward = request(
      { host, port: Number(port), method: incoming.method, path, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    state,
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('inspectPublished (one tag list per repository and registry)', () => {
  let proxy: Awaited<ReturnType<typeof tagListProxy>>;
  let dir: string;
  let digest: string;
  let inspect: (input: Omit<InspectPublishedInput, 'registries'>) => Promise<PublishedTag[]>;
  let namespace: string;

  beforeAll(async () => {
    dir = scratchSubdir('inspect-published');
    const registryHost = inject('registryHost');
    proxy = await tagListProxy(registryHost);
    namespace = testSettings().registries[0]!.url.slice(registryHost.length + 1);
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20241203.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
    );
    const archive = join(dir, 'x86_64.oci.tar');
    await execa('xz', ['--decompress', '--stdout', compose.images[0]!.path], { stdout: { file: archive } });
    // fedora has its manifest tag and one arch tag; fedora-minimal exists only by digest (no tag: a 404 list).
    for (const reference of ['fedora:40', 'fedora:40-x86_64']) {
      digest = await copyToRegistry(
        `oci-archive:${archive}`,
        `${registryHost}/${namespace}/${reference}`,
        { tlsVerify: false },
        join(dir, 'digest'),
      );
    }
    await copyToRegistry(
      `oci-archive:${archive}`,
      `${registryHost}/${namespace}/fedora-minimal@${digest}`,
      { tlsVerify: false },
      join(dir, 'digest'),
    );
    const registries = [{ url: `${proxy.host}/${namespace}`, tlsVerify: false }];
    const settings = testSettings({ registries });
    inspect = (input) =>
      new MockActivityEnvironment().run(
        makeInspectPublished(activityEnvironment({ workDir: join(dir, 'worker'), settings })),
        { ...input, registries },
      );
  });
  afterAll(async () => {
    await proxy?.close();
  });

  const input = {
    repositories: ['fedora', 'fedora-minimal'],
    tags: ['40', 'latest'],
    digestOnlyTags: ['40-x86_64', '40-aarch64'],
  };
  const digests = (found: PublishedTag[]) =>
    Object.fromEntries(found.map((tag) => [`${tag.repository}:${tag.tag}`, tag.digest]));
  const truth = () => ({
    'fedora:40': digest,
    'fedora:latest': null,
    'fedora:40-x86_64': digest,
    'fedora:40-aarch64': null,
    'fedora-minimal:40': null,
    'fedora-minimal:latest': null,
    'fedora-minimal:40-x86_64': null,
    'fedora-minimal:40-aarch64': null,
  });
  const asked = () => proxy.state.manifestRequests.map((line) => line.replace(/^\w+ \/v2\/[^/]+\//, ''));

  it('reads only the tags the list names; a repository without tags has its manifest tags read, its arch tags not', async () => {
    proxy.state.mode = 'pass';
    proxy.state.manifestRequests = [];
    expect(digests(await inspect(input))).toEqual(truth());
    // (fedora:40 is a single-arch image: its platform comes from its config blob, which is no manifest request.)
    expect([...new Set(asked())].sort()).toEqual([
      'fedora-minimal/manifests/40',
      'fedora-minimal/manifests/latest',
      'fedora/manifests/40',
      'fedora/manifests/40-x86_64',
    ]);
  });

  it('a 404 list hides no arch tag of a repository whose manifest tag exists (a registry that does not list tags)', async () => {
    proxy.state.mode = '404';
    proxy.state.manifestRequests = [];
    expect(digests(await inspect(input))).toEqual(truth());
    expect(asked()).toEqual(expect.arrayContaining(['fedora/manifests/40-x86_64', 'fedora/manifests/40-aarch64']));
    expect(asked().filter((line) => line.startsWith('fedora-minimal/manifests/40-'))).toEqual([]);
  });

  it('a list that fails otherwise is not believed: every tag is read', async () => {
    proxy.state.mode = '500';
    proxy.state.manifestRequests = [];
    expect(digests(await inspect(input))).toEqual(truth());
    expect(new Set(asked()).size).toBe(8);
  });
});
