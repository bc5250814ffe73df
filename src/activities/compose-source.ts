import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { fetchComposeFile } from './compose-http.js';

/** A compose location as users give it: an http(s) URL or a local directory. Normalized to end without a slash. */
export function normalizeComposeLocation(location: string): string {
  if (/^https?:\/\//.test(location)) return location.replace(/\/+$/, '');
  return resolve(location);
}

export function isRemote(location: string): boolean {
  return /^https?:\/\//.test(location);
}

/** Reads a file of the compose (e.g. metadata/images.json), telling "no such compose" (final) from trouble worth a retry. */
export async function readComposeFile(composeRoot: string, relativePath: string, signal?: AbortSignal): Promise<string> {
  if (!isRemote(composeRoot)) {
    const path = isAbsolute(relativePath) ? relativePath : join(composeRoot, relativePath);
    try {
      return await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw ApplicationFailure.nonRetryable(`${path} does not exist: is ${composeRoot} the top directory of a compose (the one that holds metadata/)?`, 'ComposeNotFound');
      }
      throw error;
    }
  }
  const url = `${composeRoot}/${relativePath}`;
  const response = await fetchComposeFile(url, {
    signal,
    missing: (status) => ApplicationFailure.nonRetryable(`${url} answered ${status}: is ${composeRoot} the top URL of a compose (the one that holds metadata/)?`, 'ComposeNotFound'),
  });
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}; will retry`);
  return response.text();
}
