import { existsSync, statfsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { formatBytes } from '../domain/worker-storage.js';

/**
 * Bytes free for the worker's user on the volume that holds `dir` (statfs: available blocks × block size, what
 * `df` shows as Avail), or undefined when it cannot be read. A dir not made yet is measured on its nearest parent.
 */
export function freeBytes(dir: string): number | undefined {
  let path = dir;
  while (!existsSync(path) && dirname(path) !== path) path = dirname(path);
  try {
    const stats = statfsSync(path);
    return Number(stats.bavail) * Number(stats.bsize);
  } catch {
    return undefined;
  }
}

/**
 * The start warning of a worker whose image cache may grow past its volume: [publish] cache_max_size larger than
 * the free space plus what the cache already holds. Undefined when it fits (or the volume cannot be measured).
 */
export function cacheSpaceWarning(workDir: string, cacheMaxBytes: number, cacheHeldBytes = 0): string | undefined {
  const free = freeBytes(workDir);
  if (free === undefined || cacheMaxBytes <= free + cacheHeldBytes) return undefined;
  const held = cacheHeldBytes > 0 ? ` plus the ${formatBytes(cacheHeldBytes)} its cache already holds` : '';
  return (
    `[publish] cache_max_size is ${formatBytes(cacheMaxBytes)}, but the volume of [publish] work_dir ${workDir} has ${formatBytes(free)} free${held}: ` +
    'the cache can fill the volume, and steps then fail with WorkerStorageFull until space is freed. ' +
    'Fix: lower [publish] cache_max_size below the free space, or give the work dir a larger volume'
  );
}

/** Where activityEnvironment keeps the image cache under a work dir. */
export function cacheDirOf(workDir: string): string {
  return join(workDir, 'cache');
}
