import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { checkAllowedLocation, type AllowedLocations } from '../domain/allowed-location.js';
import { DomainError } from '../domain/errors.js';
import type { ImageArtifact } from '../domain/types.js';
import { fetchComposeFile, networkCause } from './compose-http.js';
import { isRemote } from './compose-files.js';
import { checkCompression, decompressArchive, describeEntry, listArchive } from './image-archive.js';
import { convertDockerArchive, unpackOciArchive } from './oci-layout.js';
import { workerFaultOf } from '../tools/worker-fault.js';

export type CacheProgress = { stage: 'download' | 'verify' | 'unpack'; bytes: number; total?: number };

/**
 * Returns a local, checksum-verified OCI image layout directory of `image`, keyed by its sha256: decompressed by
 * its format, recognised by what it holds (a Docker archive is converted once; anything else is refused, naming
 * the entry), unpacked once so that every later copy reads it as it is. Works from an empty cache on any host:
 * activities must not rely on files an earlier activity left elsewhere.
 */
export async function localOciLayout(
  image: ImageArtifact,
  cacheDir: string,
  onProgress: (progress: CacheProgress) => void,
  signal?: AbortSignal,
  /** [compose] allowed_locations: the image and every redirect must lie under these (undefined: anywhere). */
  allowed?: AllowedLocations,
): Promise<string> {
  checkAllowedLocation(image.location, allowed, { what: `the ${image.fileName} image at` });
  const layout = cachedLayoutPath(image, cacheDir);
  if (existsSync(layout)) {
    // The cache spares the work, never the check: the compose must still have this very file.
    await checkSourceFile(image, signal, allowed);
    return layout;
  }
  const compressed = isRemote(image.location)
    ? await download(image, cacheDir, onProgress, signal, allowed)
    : image.location;
  const tarball = `${layout}.${randomUUID()}.tar.part`;
  const unpacked = `${layout}.${randomUUID()}.part`;
  try {
    if (!isRemote(image.location)) await verifyLocal(image, onProgress);
    const compression = image.compression ?? 'xz';
    await checkCompression(compressed, image, compression);
    onProgress({ stage: 'unpack', bytes: 0 });
    // Decompressed once, to a plain tar that is then listed, checked and unpacked: listing the compressed file
    // and then extracting it would decompress it twice.
    const tar = compression === 'none' ? compressed : tarball;
    if (tar === tarball) await decompressArchive(compressed, tarball, image, compression, signal);
    const { kind, members } = await listArchive(tar, image, 'none', signal);
    if (kind === 'oci') await unpackOciArchive(tar, members, unpacked, image, signal);
    else await convertDockerArchive(tar, unpacked, image, signal);
    await rename(unpacked, layout);
  } finally {
    await rm(tarball, { force: true });
    await rm(unpacked, { recursive: true, force: true });
    if (compressed !== image.location) await rm(compressed, { force: true });
  }
  return layout;
}

/** Where the cache keeps `image`'s OCI layout: keyed by the sha256 of the compose's file. */
export function cachedLayoutPath(image: Pick<ImageArtifact, 'sha256'>, cacheDir: string): string {
  return join(cacheDir, `${image.sha256}.oci`);
}

/** A file the compose lists but does not have (any more). */
function imageNotFound(image: ImageArtifact, what: string): DomainError {
  return new DomainError(
    'ImageNotFound',
    `${describeEntry(image)}: ${what}: the compose lists ${image.fileName} but does not have it; nothing was pushed for it`,
  );
}

function sizeMismatch(image: ImageArtifact, actual: number): DomainError {
  return new DomainError(
    'ChecksumMismatch',
    `${describeEntry(image)} has ${actual} bytes, but images.json says ${image.size}; the image or the compose metadata is corrupt, so nothing was pushed for it`,
  );
}

/** With the image already cached: the compose's file must still be there with its size (a stat, or an HTTP HEAD). */
async function checkSourceFile(
  image: ImageArtifact,
  signal: AbortSignal | undefined,
  allowed: AllowedLocations | undefined,
): Promise<void> {
  if (!isRemote(image.location)) {
    let size: number;
    try {
      size = (await stat(image.location)).size;
    } catch (error) {
      throw imageNotFound(image, (error as NodeJS.ErrnoException).code ?? String(error));
    }
    if (image.size !== undefined && size !== image.size) throw sizeMismatch(image, size);
    return;
  }
  const response = await fetchComposeFile(image.location, {
    method: 'HEAD',
    signal,
    allowed,
    missing: (status) => imageNotFound(image, `answered ${status}`),
  });
  if (response.status === 405 || response.status === 501) return; // a host without HEAD: the download check stands
  if (!response.ok) throw new Error(`${image.location} answered ${response.status} ${response.statusText}; will retry`);
  const length = declaredLength(response);
  if (length !== undefined && image.size !== undefined && length !== image.size) throw sizeMismatch(image, length);
}

function declaredLength(response: Response): number | undefined {
  const header = response.headers.get('content-length');
  return header !== null && /^\d+$/.test(header) && !response.headers.get('content-encoding')
    ? Number(header)
    : undefined;
}

async function download(
  image: ImageArtifact,
  cacheDir: string,
  onProgress: (p: CacheProgress) => void,
  signal: AbortSignal | undefined,
  allowed: AllowedLocations | undefined,
): Promise<string> {
  const target = join(cacheDir, `${image.sha256}.${randomUUID()}.oci.tar.xz.part`);
  const response = await fetchComposeFile(image.location, {
    signal,
    allowed,
    missing: (status) => imageNotFound(image, `answered ${status}`),
  });
  if (!response.ok || !response.body)
    throw new Error(`${image.location} answered ${response.status} ${response.statusText}; will retry`);
  const length = declaredLength(response);
  if (length !== undefined && image.size !== undefined && length !== image.size) {
    await response.body.cancel();
    throw sizeMismatch(image, length);
  }
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
    try {
      await pipeline(Readable.fromWeb(response.body), counter, createWriteStream(target), { signal });
    } catch (error) {
      if (signal?.aborted) throw error;
      // Our side of the download: the work dir is full or unwritable (the activity names it, with the figures).
      if (workerFaultOf(error, cacheDir)) throw error;
      throw new Error(
        `${image.location}: the download broke off after ${bytes} of ${image.size ?? '?'} bytes (${networkCause(error)}); will retry`,
      );
    }
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
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR')
      throw imageNotFound(image, `does not exist (${code})`);
    throw error;
  }
  if (image.size !== undefined && bytes !== image.size) throw sizeMismatch(image, bytes);
  checkDigest(image, hash.digest('hex'));
}

function checkDigest(image: ImageArtifact, actual: string): void {
  if (actual !== image.sha256) {
    throw new DomainError(
      'ChecksumMismatch',
      `${image.fileName}: sha256 is ${actual} but images.json says ${image.sha256}; the image or the compose metadata is corrupt, so nothing was pushed for it`,
    );
  }
}
