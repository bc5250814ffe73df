import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { AllowedLocations } from '../domain/allowed-location.js';
import { DomainError } from '../domain/errors.js';
import { fetchComposeFile } from './compose-http.js';

/** Larger than any real productmd file (Fedora's images.json is a few hundred KB); more is not metadata. */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;

/**
 * A compose location as users give it: an http(s) URL or a local directory, normalized to end without a slash.
 * A URL's fragment is dropped; a query is refused (files are found by appending paths to the location).
 */
export function normalizeComposeLocation(location: string): string {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(location)?.[1];
  if (scheme && !/^https?$/i.test(scheme)) {
    throw new DomainError(
      'InvalidInput',
      `the compose location ${location.slice(0, 200)} is a ${scheme}:// URL, which compose-publisher cannot read; give an http(s):// URL or a local path`,
    );
  }
  if (!scheme) return resolve(location);
  const url = new URL(location);
  if (url.search) {
    throw new DomainError(
      'InvalidInput',
      `the compose location ${location} has a query (${url.search}); give the compose's directory URL without one`,
    );
  }
  url.hash = '';
  return url.href.replace(/\/+$/, '');
}

export function isRemote(location: string): boolean {
  return /^https?:\/\//.test(location);
}

/** How a compose is read: cancellation, and the prefixes it may be read from ([compose] allowed_locations; undefined: any). */
export interface ComposeRead {
  signal?: AbortSignal | undefined;
  allowed?: AllowedLocations | undefined;
}

/**
 * Reads a file of the compose (e.g. metadata/images.json) as strict UTF-8, telling "no such compose" (final) from
 * trouble worth a retry. A local compose is never read outside its directory, symlinks included; a remote one
 * never from outside `read.allowed`, redirects included.
 */
export async function readComposeFile(
  composeRoot: string,
  relativePath: string,
  read: ComposeRead = {},
): Promise<string> {
  if (!isRemote(composeRoot)) {
    const path = isAbsolute(relativePath) ? relativePath : join(composeRoot, relativePath);
    let bytes: Buffer;
    try {
      await checkInsideCompose(composeRoot, path);
      bytes = await readFile(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new DomainError(
          'ComposeNotFound',
          `${path} does not exist: is ${composeRoot} the top directory of a compose (the one that holds metadata/)?`,
        );
      }
      throw error;
    }
    return decodeMetadata(bytes, path);
  }
  const url = `${composeRoot}/${relativePath}`;
  const response = await fetchComposeFile(url, {
    signal: read.signal,
    allowed: read.allowed,
    missing: (status) =>
      new DomainError(
        'ComposeNotFound',
        `${url} answered ${status}: is ${composeRoot} the top URL of a compose (the one that holds metadata/)?`,
      ),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}; will retry`);
  if (Number(response.headers.get('content-length') ?? 0) > MAX_METADATA_BYTES) {
    await response.body?.cancel();
    throw tooLarge(url);
  }
  return decodeMetadata(Buffer.from(await response.arrayBuffer()), url);
}

/** Refuses a local compose file whose real path (symlinks resolved) leaves the compose's real directory. */
export async function checkInsideCompose(composeRoot: string, path: string): Promise<void> {
  const [root, real] = await Promise.all([realpath(composeRoot), realpath(path)]);
  if (real === root || real.startsWith(root + sep)) return;
  throw new DomainError(
    'UntrustedInput',
    `${path} leads outside the compose (to ${real}): a compose's files must be inside ${composeRoot}`,
  );
}

function decodeMetadata(bytes: Buffer, file: string): string {
  if (bytes.length > MAX_METADATA_BYTES) throw tooLarge(file);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DomainError(
      'MalformedComposeMetadata',
      `${file} is not valid UTF-8 (the first bad byte is at offset ${firstInvalidUtf8Offset(bytes)}); productmd writes UTF-8 JSON, so the file is damaged`,
    );
  }
}

/** Feeds the bytes one at a time to a streaming decoder: the one it chokes on is the offset to report. */
function firstInvalidUtf8Offset(bytes: Buffer): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for (let offset = 0; offset < bytes.length; offset++) {
    try {
      decoder.decode(bytes.subarray(offset, offset + 1), { stream: true });
    } catch {
      return offset;
    }
  }
  return bytes.length;
}

function tooLarge(file: string): DomainError {
  return new DomainError(
    'MalformedComposeMetadata',
    `${file} is larger than ${MAX_METADATA_BYTES / 1024 / 1024} MiB: not compose metadata`,
  );
}
