import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApplicationFailure } from '@temporalio/common';
import type { ImageArtifact } from '../domain/types.js';
import { isRemote } from './compose-source.js';
import { archiveKind, checkCompression, convertDockerArchive, decompressArchive, describeEntry } from './image-archive.js';

export type CacheProgress = { stage: 'download' | 'verify' | 'decompress'; bytes: number; total?: number };

/**
 * Returns a local, checksum-verified OCI archive of `image`, keyed by its sha256: decompressed by its format,
 * recognised by what it holds (a Docker archive is converted once; anything else is refused, naming the entry).
 * Works from an empty cache on any host: activities must not rely on files an earlier activity left elsewhere.
 */
export async function localOciArchive(
  image: ImageArtifact,
  cacheDir: string,
  onProgress: (progress: CacheProgress) => void,
  signal?: AbortSignal,
): Promise<string> {
  const archive = join(cacheDir, `${image.sha256}.oci.tar`);
  if (existsSync(archive)) return archive;
  const compressed = isRemote(image.location) ? await download(image, cacheDir, onProgress, signal) : image.location;
  const tarball = `${archive}.${randomUUID()}.part`;
  // xz and skopeo print nothing for long stretches: keep the activity's heartbeat going meanwhile.
  const ticking = setInterval(() => onProgress({ stage: 'decompress', bytes: 0 }), HEARTBEAT_TICK_MS);
  try {
    if (!isRemote(image.location)) await verifyLocal(image, onProgress);
    const compression = image.compression ?? 'xz';
    await checkCompression(compressed, image, compression);
    onProgress({ stage: 'decompress', bytes: 0 });
    await decompressArchive(compressed, tarball, image, compression, signal);
    if ((await archiveKind(tarball, image, signal)) === 'docker') {
      const converted = `${archive}.${randomUUID()}.part`;
      try {
        await convertDockerArchive(tarball, converted, image, signal);
        await rename(converted, archive);
      } finally {
        await rm(converted, { force: true });
      }
    } else {
      await rename(tarball, archive);
    }
  } finally {
    clearInterval(ticking);
    await rm(tarball, { force: true });
    if (compressed !== image.location) await rm(compressed, { force: true });
  }
  return archive;
}

const HEARTBEAT_TICK_MS = 10_000;

async function download(image: ImageArtifact, cacheDir: string, onProgress: (p: CacheProgress) => void, signal?: AbortSignal): Promise<string> {
  const target = join(cacheDir, `${image.sha256}.${randomUUID()}.oci.tar.xz.part`);
  const response = await fetch(image.location, { signal });
  if (response.status === 404) throw ApplicationFailure.nonRetryable(`${image.location} answered 404: the compose lists ${image.fileName} but does not serve it`, 'ImageNotFound');
  if (!response.ok || !response.body) throw new Error(`${image.location} answered ${response.status}; will retry`);
  const hash = createHash('sha256');
  let bytes = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      onProgress({ stage: 'download', bytes, ...(image.size ? { total: image.size } : {}) });
      done(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body), counter, createWriteStream(target), { signal });
    if (image.size !== undefined && bytes !== image.size) {
      throw new Error(`${image.location}: received ${bytes} bytes, the compose says ${image.size}; will retry`);
    }
    checkDigest(image, hash.digest('hex'));
    return target;
  } catch (error) {
    await rm(target, { force: true });
    throw error;
  }
}

async function verifyLocal(image: ImageArtifact, onProgress: (p: CacheProgress) => void): Promise<void> {
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    for await (const chunk of createReadStream(image.location)) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      onProgress({ stage: 'verify', bytes, ...(image.size ? { total: image.size } : {}) });
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR') {
      throw ApplicationFailure.nonRetryable(`${describeEntry(image)} does not exist (${code}): the compose lists ${image.fileName} but does not have it; nothing was pushed for it`, 'ImageNotFound');
    }
    throw error;
  }
  if (image.size !== undefined && bytes !== image.size) {
    throw ApplicationFailure.nonRetryable(
      `${describeEntry(image)} has ${bytes} bytes, but images.json says ${image.size}; the image or the compose metadata is corrupt, so nothing was pushed for it`,
      'ChecksumMismatch',
    );
  }
  checkDigest(image, hash.digest('hex'));
}

function checkDigest(image: ImageArtifact, actual: string): void {
  if (actual !== image.sha256) {
    throw ApplicationFailure.nonRetryable(
      `${image.fileName}: sha256 is ${actual} but images.json says ${image.sha256}; the image or the compose metadata is corrupt, so nothing was pushed for it`,
      'ChecksumMismatch',
    );
  }
}
