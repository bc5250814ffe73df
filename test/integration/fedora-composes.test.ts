import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { locateCompose } from '../../src/compose/read-compose.js';
import { buildImageArchive, buildRootfsArchive } from '../../src/dev/sample-compose.js';
import { inspectRemote, type RemoteManifest } from '../../src/tools/skopeo.js';
import type { PublishStatus } from '../../src/domain/run-contract/index.js';
import { cli } from '../support/cli.js';
import { makeCompose, serveCompose } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { layOutFedoraCompose } from '../support/fedora-compose.js';
import { runPublish, testSettings, withConfiguredWorker, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

const anonymous = { tlsVerify: false };
const REPOSITORIES: Record<string, string> = {
  Container_Base: 'fedora',
  Container_Minimal_Base: 'fedora-minimal',
  Container_Toolbox: 'fedora-toolbox',
};
const ARCHES: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' };

/** Every tag of every repository, digest by digest: what a registry holds, to compare before and after. */
async function registryState(registry: string, tags: string[]): Promise<Record<string, RemoteManifest>> {
  const state: Record<string, RemoteManifest> = {};
  for (const repository of Object.values(REPOSITORIES)) {
    for (const tag of tags)
      state[`${repository}:${tag}`] = await inspectRemote(`${registry}/${repository}:${tag}`, anonymous);
  }
  return state;
}

describe("Fedora's composes end to end: Fedora's metadata (productmd), real image archives, a real registry", () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  const storage = () => ({ root: join(dir, 'factory-storage'), runroot: join(dir, 'factory-run') });

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('fedora');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  /** One real OCI archive per subvariant and arch (labelled with `label`), built once and reused. */
  async function ociArchive(label: string, subvariant: string, arch: string): Promise<string> {
    const file = join(dir, 'archives', `${label}-${subvariant}-${arch}.oci.tar.xz`);
    if (!existsSync(file)) {
      mkdirSync(join(dir, 'archives'), { recursive: true });
      await buildImageArchive({ label, subvariant, arch, archive: 'oci' }, file, { dir, storage: storage() });
    }
    return file;
  }

  async function buildArchives(label: string): Promise<Map<string, string>> {
    const files = new Map<string, string>();
    for (const subvariant of Object.keys(REPOSITORIES)) {
      const arches = Object.keys(ARCHES);
      for (let i = 0; i < arches.length; i += 2) {
        await Promise.all(
          arches
            .slice(i, i + 2)
            .map(async (arch) => files.set(`${subvariant} ${arch}`, await ociArchive(label, subvariant, arch))),
        );
      }
    }
    return files;
  }

  function writeConfig(taskQueue: string, registryNamespace: string): string {
    return writeHarnessConfig(dir, {
      taskQueue,
      registryNamespace,
      repositories: REPOSITORIES,
      architectures: ARCHES,
      extra: '\n[releases]\nlatest = "43"\n',
    });
  }

  it('publishes Fedora 43 (type "container") with four arches everywhere, latest = 43; the same compose by its top directory changes nothing', async () => {
    const files = await buildArchives('Fedora-43-20251023.0');
    const compose = layOutFedoraCompose('fedora-43', join(dir, 'f43'), (entry) =>
      entry.variant === 'Container' ? files.get(`${entry.subvariant} ${entry.arch}`) : undefined,
    );
    const server = await serveCompose(compose.top);
    const namespace = `f43-${Date.now()}`;
    try {
      const config = writeConfig(uniqueTaskQueue('fedora'), namespace);
      await withConfiguredWorker(env, dir, config, async () => {
        const published = await cli(['publish', `${server.url}compose/`, '--wait', '--json'], config);
        expect(published.stderr).toBe('');
        expect(published.exitCode).toBe(0);
        const status = JSON.parse(published.stdout) as PublishStatus;
        expect(status).toMatchObject({
          composeId: 'Fedora-43-20251023.0',
          phase: 'done',
          release: '43',
          manifestTags: ['43', 'latest'],
        });
        expect(status.repositories.map((r) => [r.repository, r.decision, r.built])).toEqual(
          Object.values(REPOSITORIES).map((repository) => [repository, 'pass', ['amd64', 'arm64', 'ppc64le', 's390x']]),
        );

        const registry = `${inject('registryHost')}/${namespace}`;
        const tags = ['43', 'latest', ...Object.keys(ARCHES).map((arch) => `43-${arch}`)];
        const before = await registryState(registry, tags);
        for (const repository of Object.values(REPOSITORIES)) {
          const index = before[`${repository}:43`]!;
          if (index.kind !== 'index') throw new Error(`${repository}:43 is ${index.kind}, expected an index`);
          expect(before[`${repository}:latest`]).toEqual(index);
          expect(index.instances.map((i) => i.architecture).sort()).toEqual(['amd64', 'arm64', 'ppc64le', 's390x']);
          const pushed = status.repositories.find((r) => r.repository === repository)!.pushed;
          for (const [composeArch, ociArch] of Object.entries(ARCHES)) {
            const archTag = before[`${repository}:43-${composeArch}`]!;
            expect(archTag).toMatchObject({ kind: 'image', architecture: ociArch });
            const instance = index.instances.find((i) => i.architecture === ociArch)!;
            expect(instance.digest).toBe((archTag as { digest: string }).digest);
            expect(pushed.find((p) => p.ociArch === ociArch)?.digest).toBe(instance.digest);
            expect(instance.annotations['org.fedoraproject.compose.id']).toBe('Fedora-43-20251023.0');
          }
        }

        const byTop = await cli(['publish', server.url, '--wait', '--json'], config);
        expect(byTop.exitCode).toBe(0);
        expect(JSON.parse(byTop.stdout)).toMatchObject({ composeId: 'Fedora-43-20251023.0', phase: 'done' });
        expect(await registryState(registry, tags)).toEqual(before);
      });
    } finally {
      await server.close();
    }
  });

  it('refuses the base image of a Fedora 42 compose whose s390x image is a rootfs tarball, in seconds, naming the file: nothing of fedora is pushed, the other repositories publish', async () => {
    const files = await buildArchives('Fedora-43-20251023.0');
    const rootfs = join(dir, 'archives', 'rootfs.tar.xz');
    if (!existsSync(rootfs)) await buildRootfsArchive(rootfs, dir);
    const compose = layOutFedoraCompose('fedora-42', join(dir, 'f42'), (entry) => {
      if (entry.variant !== 'Container' || entry.type !== 'container') return undefined;
      return entry.subvariant === 'Container_Base' && entry.arch === 's390x'
        ? rootfs
        : files.get(`${entry.subvariant} ${entry.arch}`);
    });
    const server = await serveCompose(compose.top);
    const namespace = `f42-${Date.now()}`;
    try {
      const config = writeConfig(uniqueTaskQueue('fedora'), namespace);
      await withConfiguredWorker(env, dir, config, async () => {
        const started = Date.now();
        const failed = await cli(['publish', server.url, '--wait', '--json'], config);
        const seconds = (Date.now() - started) / 1000;
        expect(failed.exitCode).toBe(1);
        const status = JSON.parse(failed.stdout) as PublishStatus;
        expect(status.phase).toBe('failed');
        expect(status.error).toContain('the Container/s390x Container_Base image');
        expect(status.error).toContain(
          '/Container/s390x/images/Fedora-Container-Base-Generic-42-1.1.s390x.oci.tar.xz is not a container image archive',
        );
        expect(status.error).toContain('a root filesystem');
        expect(status.error).not.toContain('Activity task failed');
        expect(seconds).toBeLessThan(60);

        const text = await cli(['status', 'Fedora-42-20250409.0'], config);
        expect(text.stdout).toContain('is not a container image archive');

        const decisions = Object.fromEntries(status.repositories.map((r) => [r.repository, r.decision]));
        expect(decisions.fedora).toBe('failed');
        expect(status.repositories.find((r) => r.repository === 'fedora')!.error).toContain('a root filesystem');
        const published = Object.keys(decisions).filter((repository) => repository !== 'fedora');
        expect(published.length).toBeGreaterThan(0);
        for (const repository of published) expect(decisions[repository]).toBe('pass');

        const registry = `${inject('registryHost')}/${namespace}`;
        const state = await registryState(registry, [
          '42',
          'latest',
          ...Object.keys(ARCHES).map((arch) => `42-${arch}`),
        ]);
        expect(
          Object.entries(state).filter(([name, manifest]) => name.startsWith('fedora:') && manifest.kind !== 'absent'),
        ).toEqual([]);
        for (const repository of published) expect(state[`${repository}:42`]).toMatchObject({ kind: 'index' });
      });
    } finally {
      await server.close();
    }
  });

  it('publishes Docker archives as Fedora ≤ 39 shipped them (type docker, no .oci in the name)', async () => {
    const settings = testSettings({ releases: {} });
    const compose = await makeCompose(
      {
        composeId: 'Fedora-39-20231103.0',
        images: { Container_Base: ['x86_64', 'aarch64'] },
        format: '1.2',
        imageType: 'docker',
        archive: 'docker',
      },
      { dir, storage: storage() },
    );
    expect(compose.images.map((image) => image.fileName)).toEqual([
      'Fedora-Container-Base-Generic-39-20231103.0.x86_64.tar.xz',
      'Fedora-Container-Base-Generic-39-20231103.0.aarch64.tar.xz',
    ]);
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const result = await runPublish(env, taskQueue, { location: compose.root, composeId: compose.composeId });
        const fedora = result.repositories.find((r) => r.repository === 'fedora')!;
        expect(fedora).toMatchObject({ decision: 'pass', built: ['amd64', 'arm64'] });
        const registry = settings.registries[0]!.url;
        const index = await inspectRemote(`${registry}/fedora:39`, anonymous);
        if (index.kind !== 'index') throw new Error(`fedora:39 is ${index.kind}`);
        for (const [composeArch, ociArch] of [
          ['x86_64', 'amd64'],
          ['aarch64', 'arm64'],
        ] as const) {
          const archTag = await inspectRemote(`${registry}/fedora:39-${composeArch}`, anonymous);
          expect(archTag).toMatchObject({ kind: 'image', architecture: ociArch });
          expect(index.instances.find((i) => i.architecture === ociArch)?.digest).toBe(
            (archTag as { digest: string }).digest,
          );
          expect(fedora.pushed.find((p) => p.ociArch === ociArch)?.digest).toBe((archTag as { digest: string }).digest);
        }
      },
      { settings },
    );
  });

  it('finds a compose by its top directory or its compose/ directory, locally and over HTTP, as productmd does', async () => {
    const compose = layOutFedoraCompose('fedora-41', join(dir, 'f41'), () => undefined);
    const server = await serveCompose(compose.top);
    try {
      for (const location of [compose.top, compose.root, `${compose.top}/`, server.url, `${server.url}compose`]) {
        const found = await locateCompose(location);
        expect(found.info.composeId).toBe('Fedora-41-20241025.0');
        expect(found.root).toMatch(/\/compose$/);
      }
      await expect(locateCompose(join(compose.top, 'nothing-here'))).rejects.toThrow(
        /neither .*\/metadata\/composeinfo\.json nor .*\/compose\/metadata\/composeinfo\.json exists/,
      );
    } finally {
      await server.close();
    }
  });
});
