import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localOciArchive } from '../../src/activities/image-cache.js';
import type { ImageArtifact } from '../../src/domain/types.js';
import { archiveManifestDigest } from '../../src/tools/skopeo.js';
import { makeCompose, serveCompose, type MadeImage } from '../support/compose-factory.js';
import { scratchSubdir } from '../support/temporal.js';

describe('the image cache of pushArchImage', () => {
  let dir: string;
  let made: MadeImage;
  let server: Awaited<ReturnType<typeof serveCompose>>;
  let root: string;

  beforeAll(async () => {
    dir = scratchSubdir('image-cache');
    const compose = await makeCompose({ composeId: 'Fedora-40-20241201.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' }, { dir, storage: { root: join(dir, 's'), runroot: join(dir, 'r') } });
    made = compose.images[0]!;
    root = compose.root;
    server = await serveCompose(compose.root);
  });
  afterAll(async () => {
    await server?.close();
  });

  const artifact = (overrides: Partial<ImageArtifact> = {}): ImageArtifact => ({
    composeArch: made.composeArch,
    ociArch: made.ociArch,
    location: `${server.url}${made.path.slice(root.length + 1)}`,
    fileName: made.fileName,
    size: made.size,
    sha256: made.sha256,
    ...overrides,
  });
  const downloads = () => server.requests.filter((url) => url.endsWith('.tar.xz')).length;

  it('downloads once, verifies, decompresses, and serves later calls from the cache; a missing cache is fetched again', async () => {
    const cacheDir = scratchSubdir('cache');
    const first = await localOciArchive(artifact(), cacheDir, () => {});
    expect(first).toBe(join(cacheDir, `${made.sha256}.oci.tar`));
    expect(await archiveManifestDigest(first)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const before = downloads();
    await localOciArchive(artifact(), cacheDir, () => {});
    expect(downloads()).toBe(before);
    rmSync(first);
    await localOciArchive(artifact(), cacheDir, () => {});
    expect(downloads()).toBe(before + 1);
  });

  it('refuses a checksum mismatch for good, and retries a short download', async () => {
    const mismatch = await localOciArchive(artifact({ sha256: 'a'.repeat(64) }), scratchSubdir('cache'), () => {}).catch((e: unknown) => e);
    expect(mismatch).toBeInstanceOf(ApplicationFailure);
    expect(mismatch).toMatchObject({ type: 'ChecksumMismatch', nonRetryable: true });
    const short = await localOciArchive(artifact({ size: made.size + 10 }), scratchSubdir('cache'), () => {}).catch((e: unknown) => e);
    expect(short).toBeInstanceOf(Error);
    expect(short).not.toBeInstanceOf(ApplicationFailure);
    expect((short as Error).message).toContain('will retry');
  });
});
