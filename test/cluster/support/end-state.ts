import { readFileSync, statSync } from 'node:fs';
import { expect } from 'vitest';
import type { PublishStatus } from '../../../src/domain/run-contract/index.js';
import type { MadeCompose } from '../../support/compose-factory.js';
import { manifestDigestInArchive, readTag } from '../../support/faults.js';

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

export interface ComposeImage {
  composeId: string;
  composeArch: string;
  ociArch: string;
  /** The manifest digest the image must have in a registry, read from the compose's own archive. */
  digest: string;
}

export async function composeImages(compose: MadeCompose): Promise<ComposeImage[]> {
  const images = await Promise.all(
    compose.images.map(async (image) => ({
      composeId: compose.composeId,
      composeArch: image.composeArch,
      ociArch: image.ociArch,
      digest: await manifestDigestInArchive(image.path),
    })),
  );
  return images.sort((a, b) => a.ociArch.localeCompare(b.ociArch));
}

/**
 * Digest by digest, what one registry serves for one release: each arch tag (<version>-<arch>) holds `archTags`'
 * image, and every index tag holds one and the same OCI index of exactly `instances`, each annotated with the compose
 * it came from. Returns the index digest.
 */
export async function expectRelease(
  registry: string,
  release: { version: string; indexTags: string[]; archTags: ComposeImage[]; instances: ComposeImage[] },
): Promise<string> {
  for (const image of release.archTags) {
    const tag = `${release.version}-${image.composeArch}`;
    expect(await readTag(registry, 'fedora', tag), `${registry}/fedora:${tag}`).toMatchObject({
      kind: 'image',
      digest: image.digest,
    });
  }
  const indexes = await Promise.all(release.indexTags.map((tag) => readTag(registry, 'fedora', tag)));
  const digest = indexes[0]?.kind === 'index' ? indexes[0].digest : 'no index';
  expect(digest, `${registry}/fedora:${release.indexTags[0]}`).toMatch(/^sha256:[0-9a-f]{64}$/);
  const instances = release.instances.map((image) => ({
    architecture: image.ociArch,
    os: 'linux',
    digest: image.digest,
    composeId: image.composeId,
  }));
  for (const [i, index] of indexes.entries()) {
    expect(index, `${registry}/fedora:${release.indexTags[i]}`).toEqual({
      kind: 'index',
      mediaType: OCI_INDEX,
      digest,
      instances,
    });
  }
  return digest;
}

/** Where a registry's log ends now: indexWrites counts the requests logged after it. */
export function logOffset(file: string): number {
  return statSync(file).size;
}

/** Successful PUTs of a tag (not a digest) under `registryNamespace`/fedora since `offset`, per tag, from the access log. */
export function tagWrites(file: string, offset: number, registryNamespace: string): Map<string, number> {
  const writes = new Map<string, number>();
  const pattern = /"PUT \/v2\/([^ ?]+)\/manifests\/([^ ?]+)[^"]*" (\d{3}) /;
  for (const line of readFileSync(file).subarray(offset).toString('utf8').split('\n')) {
    const match = pattern.exec(line);
    if (
      !match ||
      match[1] !== `${registryNamespace}/fedora` ||
      match[2]!.startsWith('sha256:') ||
      !match[3]!.startsWith('2')
    )
      continue;
    writes.set(match[2]!, (writes.get(match[2]!) ?? 0) + 1);
  }
  return writes;
}

/**
 * Each index tag was written once per change: as many PUTs of the tag as runs that report publishing it, each of
 * those a different index, the last of them the one the tag serves.
 */
export function expectIndexWrittenOncePerChange(
  writes: Map<string, number>,
  registry: string,
  tag: string,
  statuses: PublishStatus[],
  finalDigest: string,
): void {
  const reported = statuses
    .flatMap((status) => status.repositories.flatMap((repository) => repository.manifests))
    .filter((manifest) => manifest.registry === registry && manifest.tag === tag);
  expect(writes.get(tag) ?? 0, `PUTs of ${registry}/fedora:${tag} (runs report ${JSON.stringify(reported)})`).toBe(
    reported.length,
  );
  expect(
    new Set(reported.map((manifest) => manifest.digest)).size,
    `${registry}/fedora:${tag}: each write a new index`,
  ).toBe(reported.length);
  expect(
    reported.map((manifest) => manifest.digest),
    `${registry}/fedora:${tag}: the index it serves was written`,
  ).toContain(finalDigest);
}
