import { createHash } from 'node:crypto';
import { execa } from 'execa';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  listImageNames,
  manifestAdd,
  manifestAnnotate,
  manifestCreate,
  manifestPush,
  removeImages,
} from '../../src/tools/buildah.js';
import { composeIndex, describeInstance } from '../../src/domain/compose-index.js';
import { copyToRegistry, inspectRemote } from '../../src/tools/skopeo.js';
import { putIndex, readRemoteConfig, readRemoteManifest } from '../../src/tools/registry-api.js';
import { manifestDigest } from '../../src/tools/remote-manifest.js';
import { ToolError } from '../../src/tools/tool-error.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { scratchSubdir } from '../support/temporal.js';

const anonymous = { tlsVerify: false };

describe('buildah and skopeo wrappers against the real registry', () => {
  let dir: string;
  let compose: MadeCompose;
  const storage = () => ({ root: join(dir, 'storage'), runroot: join(dir, 'runroot') });

  beforeAll(async () => {
    dir = scratchSubdir('tools');
    compose = await makeCompose(
      { composeId: 'Fedora-40-20240601.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage: storage() },
    );
  });

  it('pushes two arch images, builds an index by digest with annotations, and reads it back', async () => {
    const repo = `${inject('registryHost')}/tools/fedora`;
    const digests: Record<string, string> = {};
    for (const image of compose.images) {
      const archive = join(dir, `${image.composeArch}.oci.tar`);
      await execa('xz', ['--decompress', '--stdout', image.path], { stdout: { file: archive } });
      const pushed = await copyToRegistry(
        `oci-archive:${archive}`,
        `${repo}:40-${image.composeArch}`,
        anonymous,
        join(dir, 'digest'),
      );
      const manifest = (await execa('skopeo', ['inspect', '--raw', `oci-archive:${archive}`])).stdout;
      expect(pushed).toBe(`sha256:${createHash('sha256').update(manifest).digest('hex')}`);
      digests[image.ociArch] = pushed;
    }
    expect(Object.keys(digests).sort()).toEqual(['amd64', 'arm64']);
    expect(digests.amd64).not.toBe(digests.arm64);

    const list = 'localhost/compose-publisher-tmp/tools-test';
    await manifestCreate(storage(), list);
    for (const [arch, digest] of Object.entries(digests)) {
      const added = await manifestAdd(storage(), list, `${repo}@${digest}`, anonymous);
      expect(added).toBe(digest);
      await manifestAnnotate(storage(), list, added, {
        'org.fedoraproject.compose.id': `${compose.composeId}/${arch}`,
      });
    }
    const indexDigest = await manifestPush(storage(), list, `${repo}:40`, anonymous, join(dir, 'index-digest'));

    const index = await inspectRemote(`${repo}:40`, anonymous);
    expect(index.kind).toBe('index');
    if (index.kind !== 'index') return;
    expect(index.digest).toBe(indexDigest);
    expect(
      index.instances.map((i) => [i.architecture, i.digest, i.annotations['org.fedoraproject.compose.id']]).sort(),
    ).toEqual([
      ['amd64', digests.amd64, `${compose.composeId}/amd64`],
      ['arm64', digests.arm64, `${compose.composeId}/arm64`],
    ]);

    // The index composed from the instances' descriptors (what writeIndex writes with one manifest PUT per tag) is
    // byte for byte the one buildah wrote: same digest.
    const descriptors = await Promise.all(
      Object.entries(digests).map(async ([arch, digest]) =>
        describeInstance({
          digest,
          rawManifest: await readRemoteManifest(`${repo}@${digest}`, anonymous),
          platform: await readRemoteConfig(`${repo}@${digest}`, anonymous),
          composeId: `${compose.composeId}/${arch}`,
        }),
      ),
    );
    const composed = composeIndex(descriptors);
    expect(manifestDigest(composed)).toBe(indexDigest);
    expect(await putIndex(`${repo}:40-composed`, composed, anonymous)).toBe(indexDigest);
    expect(await inspectRemote(`${repo}:40-composed`, anonymous)).toEqual(index);

    const single = await inspectRemote(`${repo}:40-aarch64`, anonymous);
    expect(single).toMatchObject({ kind: 'image', architecture: 'arm64', digest: digests.arm64 });

    expect(await removeImages(storage(), [list])).toEqual([]);
    expect(await removeImages(storage(), [list])).toEqual([]);
    expect(await listImageNames(storage())).not.toContain(`${list}:latest`);
  });

  it('reports a tag that does not exist as absent, not as an error', async () => {
    expect(await inspectRemote(`${inject('registryHost')}/tools/nothing-here:40`, anonymous)).toEqual({
      kind: 'absent',
    });
  });

  it('classifies an unreachable registry as transient and a bad reference as invalid input', async () => {
    const refused = await inspectRemote('127.0.0.1:1/fedora:40', anonymous).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ToolError);
    expect((refused as ToolError).kind).toBe('transient');
    const invalid = await inspectRemote(`${inject('registryHost')}/Tools/UPPER:40`, anonymous).catch((e: unknown) => e);
    expect((invalid as ToolError).kind).toBe('invalid-input');
  });
});
