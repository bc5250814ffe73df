import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/format-status.js';
import { readRunStatus, type RunStatus } from '../../src/client/publish-runs.js';
import { localOciLayout } from '../../src/compose/image-cache.js';
import { layoutManifestDigest } from '../../src/compose/oci-layout.js';
import { cacheSpaceWarning, freeBytes } from '../../src/compose/work-dir-space.js';
import { DomainError } from '../../src/domain/errors.js';
import type { ImageArtifact } from '../../src/domain/types.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { workerFaultOf } from '../../src/tools/worker-fault.js';
import { publishWorkflowId } from '../../src/domain/run-contract/index.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { cli } from '../support/cli.js';
import { workerStartWarnings } from '../support/faults.js';
import { makeCompose, serveCompose, type MadeCompose, type MadeImage } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const anonymous = { tlsVerify: false };
const isRoot = process.getuid?.() === 0;

/** Writes `file` until the volume has no byte left (big chunks, then small ones); returns its size. */
function fillVolume(file: string): number {
  const fd = openSync(file, 'w');
  let written = 0;
  try {
    for (const chunk of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const buffer = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        try {
          const n = writeSync(fd, buffer);
          written += n;
          if (n < chunk) break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/** The image as images.json lists it (what prepareImage is given). */
function artifactOf(compose: MadeCompose, image: MadeImage, location = image.path): ImageArtifact {
  return {
    composeArch: image.composeArch,
    ociArch: image.ociArch,
    location,
    fileName: image.fileName,
    size: image.size,
    sha256: image.sha256,
    entry: { variant: 'Container', subvariant: image.subvariant },
  };
}

/** The cache's complete layouts (a half-written one is a .part). */
const layoutsIn = (cacheDir: string) =>
  existsSync(cacheDir) ? readdirSync(cacheDir).filter((name) => /^[0-9a-f]{64}\.oci$/.test(name)) : [];

describe.runIf(isRoot)('a worker whose work dir is on a full 40 MiB volume', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let volume: string;
  let compose: MadeCompose;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('worker-storage');
    volume = join(dir, 'volume');
    mkdirSync(volume);
    await execa('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', volume]);
    compose = await makeCompose(
      { composeId: 'Fedora-40-20240611.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 'factory-storage'), runroot: join(dir, 'factory-run') } },
    );
  });
  afterAll(async () => {
    await env?.teardown();
    if (volume) await execa('umount', ['--lazy', volume], { reject: false });
  });

  it('blames the worker, not the compose, when the cache cannot be written, and leaves no layout behind', async () => {
    const cacheDir = join(volume, 'direct', 'cache');
    mkdirSync(cacheDir, { recursive: true });
    const filler = join(volume, 'filler-direct');
    fillVolume(filler);
    const server = await serveCompose(compose.root);
    try {
      const image = compose.images[0]!;
      // A local image: xz cannot decompress it into the full cache (the case that was reported as a bad archive).
      const unpack = await localOciLayout(artifactOf(compose, image), cacheDir, () => {}).catch(
        (error: unknown) => error,
      );
      expect(unpack).not.toBeInstanceOf(DomainError);
      expect(workerFaultOf(unpack, volume)?.fault).toEqual({ type: 'WorkerStorageFull', code: 'ENOSPC' });
      expect(workerFaultOf(unpack, volume)?.detail).toMatch(/^xz: .*No space left on device/);
      // A remote image: the download cannot be written (not "the download broke off; will retry").
      const remote = `${server.url}${image.path.slice(compose.root.length + 1)}`;
      const download = await localOciLayout(artifactOf(compose, image, remote), cacheDir, () => {}).catch(
        (error: unknown) => error,
      );
      expect(download).not.toBeInstanceOf(DomainError);
      expect(workerFaultOf(download, volume)?.fault.code).toBe('ENOSPC');
      // Nothing the cache would take for a complete layout, and no half-written file left either.
      expect(readdirSync(cacheDir)).toEqual([]);
    } finally {
      rmSync(filler);
      await server.close();
    }
    // With room again, the same image unpacks into the same cache.
    const layout = await localOciLayout(artifactOf(compose, compose.images[0]!), cacheDir, () => {});
    expect(layoutsIn(cacheDir)).toEqual([`${compose.images[0]!.sha256}.oci`]);
    expect(layoutManifestDigest(layout, artifactOf(compose, compose.images[0]!))).toMatch(/^sha256:[0-9a-f]{64}$/);
    rmSync(join(volume, 'direct'), { recursive: true });
  });

  it('waits and retries with WorkerStorageFull in status, then publishes every image once the filler is deleted', async () => {
    const settings = testSettings({ repositories: { Container_Base: 'fedora' } });
    const registry = settings.registries[0]!.url;
    const filler = join(volume, 'filler-run');
    const workflowId = publishWorkflowId(compose.composeId);
    await withPublisherWorker(
      env,
      volume,
      async ({ taskQueue }) => {
        const workDir = join(volume, 'worker');
        const cacheDir = join(workDir, 'cache');
        fillVolume(filler);
        expect(freeBytes(workDir)).toBeLessThan(4096);
        const handle = await env.client.workflow.start(publishCompose, {
          taskQueue,
          workflowId,
          args: [{ location: compose.root, composeId: compose.composeId }],
        });

        // The run does not fail: status shows what it retries, and why.
        let status: RunStatus | undefined;
        for (let i = 0; i < 120 && !status?.retrying?.some((r) => r.type === 'WorkerStorageFull'); i++) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          status = await readRunStatus(env.client, compose.composeId);
        }
        const retried = status?.retrying?.find((r) => r.type === 'WorkerStorageFull');
        expect(retried, JSON.stringify(status)).toBeDefined();
        expect(status!.phase).toBe('preparing-images');
        expect(retried!.activity).toBe('prepareImage');
        expect(retried!.failure).toMatch(
          new RegExp(
            `^preparing Fedora-Container-Base-Generic-40-20240611\\.n\\.0\\.(x86_64|aarch64)\\.oci\\.tar\\.xz: the worker's work dir ${workDir} is full: no space left on device \\(ENOSPC\\): (xz|tar): `,
          ),
        );
        expect(retried!.failure).toMatch(
          new RegExp(
            `Free in ${workDir}: \\d+ bytes; this step needs about .* \\(the \\d+-byte image decompressed and unpacked into the cache\\)\\.`,
          ),
        );
        expect(retried!.failure).toContain(
          "This is the worker host's fault, not the compose's: the step is retried with back-off.",
        );
        expect(retried!.failure).toContain('lower [publish] cache_max_size (now 20.0 GiB');
        expect(retried!.failure).not.toMatch(
          /CorruptImage|UnsupportedImageArchive|not a usable container image archive/,
        );
        expect(formatStatus(status!)).toContain('retrying (the run waits and tries again):\n  prepareImage (attempt ');

        // The CLI's `status`, as an operator runs it, says the same.
        const configFile = writeHarnessConfig(dir, { taskQueue, registryNamespace: registry.split('/').at(-1)! });
        const shown = await cli(['status', compose.composeId], configFile);
        expect(shown.stdout).toContain('phase preparing-images');
        expect(shown.stdout).toMatch(
          /retrying \(the run waits and tries again\):\n {2}prepareImage \(attempt \d+(, next at [^)]+)?\): WorkerStorageFull: preparing .*the worker's work dir .* is full/,
        );

        // Nothing was published, and the cache holds no layout built from a half-written unpack.
        expect(layoutsIn(cacheDir)).toEqual([]);
        expect(await inspectRemote(`${registry}/fedora:40`, anonymous)).toEqual({ kind: 'absent' });

        rmSync(filler);
        const result = await handle.result();
        expect(result.phase).toBe('done');
        expect(result.repositories.map((r) => [r.repository, r.decision, r.built])).toEqual([
          ['fedora', 'pass', ['amd64', 'arm64']],
        ]);

        // Digest by digest: each arch of the index, and each arch tag, is the image of this compose's file.
        const expected = new Map<string, string>();
        const reference = scratchSubdir('reference-cache');
        for (const image of compose.images) {
          const artifact = artifactOf(compose, image);
          expected.set(
            image.ociArch,
            layoutManifestDigest(await localOciLayout(artifact, reference, () => {}), artifact),
          );
        }
        const index = await inspectRemote(`${registry}/fedora:40`, anonymous);
        if (index.kind !== 'index') throw new Error(`fedora:40 is ${index.kind}`);
        expect(Object.fromEntries(index.instances.map((instance) => [instance.architecture, instance.digest]))).toEqual(
          Object.fromEntries(expected),
        );
        for (const instance of index.instances)
          expect(instance.annotations['org.fedoraproject.compose.id']).toBe(compose.composeId);
        expect(await inspectRemote(`${registry}/fedora:latest`, anonymous)).toMatchObject({
          kind: 'index',
          digest: index.digest,
        });
        for (const image of compose.images) {
          expect(
            await inspectRemote(`${registry}/fedora:40-${image.composeArch}`, anonymous),
            image.composeArch,
          ).toMatchObject({ kind: 'image', digest: expected.get(image.ociArch) });
        }
        expect(result.repositories[0]!.manifests.map((m) => [m.tag, m.digest]).sort()).toEqual([
          ['40', index.digest],
          ['latest', index.digest],
        ]);
      },
      { settings },
    );
  });

  it('a cache_max_size larger than the free space of the work dir is a warning at start, naming both figures and the key', async () => {
    const workDir = join(volume, 'start');
    const warning = cacheSpaceWarning(workDir, 20 * 1024 ** 3);
    expect(warning).toMatch(
      new RegExp(
        `^\\[publish\\] cache_max_size is 20\\.0 GiB \\(21474836480 bytes\\), but the volume of \\[publish\\] work_dir ${workDir} has \\d+\\.\\d MiB \\(\\d+ bytes\\) free: `,
      ),
    );
    expect(warning).toContain(
      'Fix: lower [publish] cache_max_size below the free space, or give the work dir a larger volume',
    );
    expect(cacheSpaceWarning(workDir, 1024 * 1024)).toBeUndefined();

    // The worker process says it at start, in its log.
    const configFile = writeHarnessConfig(dir, {
      taskQueue: 'worker-storage-start',
      registryNamespace: 'worker-storage-start',
      extra: `\n[compose]\nallowed_locations = ["/"]\n\n[publish]\nwork_dir = "${workDir}"\ncache_max_size = "20GiB"\n`,
    });
    const warnings = await workerStartWarnings(configFile);
    expect(warnings).toEqual([
      expect.stringMatching(
        /: \[publish\] cache_max_size is 20\.0 GiB \(21474836480 bytes\), but the volume of \[publish\] work_dir .* has \d+\.\d MiB \(\d+ bytes\) free: /,
      ),
    ]);
  });
});
