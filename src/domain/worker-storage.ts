import type { FailureType } from './failure-types.js';

/**
 * The worker's own faults: what its host's work dir, not the compose, is to blame for. Pure: the errno codes node
 * reports and the words tar, xz, gzip, skopeo and buildah print for them, mapped to a failure type and a fix.
 */
export type WorkerFaultType = Extract<FailureType, 'WorkerStorageFull' | 'WorkerStorageError'>;

export interface WorkerFault {
  type: WorkerFaultType;
  /** The errno code it stands for: ENOSPC, EACCES, … */
  code: WorkerFaultCode;
}

export type WorkerFaultCode = 'ENOSPC' | 'EDQUOT' | 'EACCES' | 'EPERM' | 'EROFS' | 'EMFILE' | 'ENFILE';

const FAULTS: Record<WorkerFaultCode, { type: WorkerFaultType; what: string; anyPath: boolean }> = {
  ENOSPC: { type: 'WorkerStorageFull', what: 'no space left on device', anyPath: true },
  EDQUOT: { type: 'WorkerStorageFull', what: 'disk quota exceeded', anyPath: true },
  EACCES: { type: 'WorkerStorageError', what: 'permission denied', anyPath: false },
  EPERM: { type: 'WorkerStorageError', what: 'operation not permitted', anyPath: false },
  EROFS: { type: 'WorkerStorageError', what: 'read-only file system', anyPath: false },
  EMFILE: { type: 'WorkerStorageError', what: 'too many open files (this process)', anyPath: true },
  ENFILE: { type: 'WorkerStorageError', what: 'too many open files (this host)', anyPath: true },
};

/** The tools' words for each code (strerror, as tar, xz, gzip print it; Go's, as skopeo and buildah print it). */
const OUTPUT: Array<[RegExp, WorkerFaultCode]> = [
  [/no space left on device/i, 'ENOSPC'],
  [/disk quota exceeded/i, 'EDQUOT'],
  [/read-only file system/i, 'EROFS'],
  [/too many open files in system/i, 'ENFILE'],
  [/too many open files/i, 'EMFILE'],
  [/permission denied/i, 'EACCES'],
  [/operation not permitted/i, 'EPERM'],
];

/** The worker fault an errno code stands for, if any (ENOENT, ECONNRESET, … are not). */
export function workerFaultOfCode(code: string | undefined): WorkerFault | undefined {
  return code !== undefined && Object.hasOwn(FAULTS, code)
    ? { type: FAULTS[code as WorkerFaultCode].type, code: code as WorkerFaultCode }
    : undefined;
}

/** The worker fault a tool's output reports ("No space left on device", "Permission denied", …), if any. */
export function workerFaultInOutput(output: string): WorkerFault | undefined {
  const code = OUTPUT.find(([pattern]) => pattern.test(output))?.[1];
  return code ? { type: FAULTS[code].type, code } : undefined;
}

/**
 * Whether a node error with `code` about `path` is the worker's: a full disk or too many open files wherever it
 * happens (the worker writes only to its work dir), a refused write only in the work dir (a compose file the
 * worker may not read is not the work dir's fault).
 */
export function isWorkerPath(code: WorkerFaultCode, path: string | undefined, workDir: string | undefined): boolean {
  if (FAULTS[code].anyPath || path === undefined || workDir === undefined) return true;
  const dir = workDir.endsWith('/') ? workDir : `${workDir}/`;
  return path === workDir || path.startsWith(dir);
}

/** What the fault is, in words: "no space left on device (ENOSPC)". */
export function describeWorkerFault(fault: WorkerFault): string {
  return `${FAULTS[fault.code].what} (${fault.code})`;
}

export interface WorkerFaultReport {
  fault: WorkerFault;
  /** What the activity was doing: "preparing Fedora-…x86_64.oci.tar.xz". */
  doing: string;
  /** The worker's [publish] work_dir. */
  workDir: string;
  /** The tool's or node's own words, short. */
  detail: string;
  /** Bytes free in the work dir for the worker's user (statfs), after eviction; undefined when it cannot be read. */
  freeBytes?: number | undefined;
  /** Bytes this step needs there, as far as the worker knows (the image's size…), and what that is. */
  needed?: { bytes: number; what: string } | undefined;
  /** What the cache evicted before the retry: images no run is using. */
  evicted: { count: number; bytes: number };
  /** [publish] cache_max_size, in bytes. */
  cacheMaxBytes?: number | undefined;
}

/**
 * The message of a WorkerStorageFull or WorkerStorageError failure: whose fault it is (the worker's, not the
 * compose's), the work dir, the free and the needed bytes, what the cache did, and the fix.
 */
export function workerFaultMessage(report: WorkerFaultReport): string {
  const { fault, workDir } = report;
  const free = report.freeBytes === undefined ? 'unknown' : formatBytes(report.freeBytes);
  const needed = report.needed
    ? `; this step needs about ${formatBytes(report.needed.bytes)} (${report.needed.what})`
    : '';
  const evicted =
    report.evicted.count > 0
      ? `The cache evicted ${report.evicted.count} image${report.evicted.count === 1 ? '' : 's'} no run is using (${formatBytes(report.evicted.bytes)}) before the retry.`
      : 'The cache holds no image that no run is using: nothing to evict.';
  const limit = report.cacheMaxBytes === undefined ? '' : ` (now ${formatBytes(report.cacheMaxBytes)})`;
  const head = `${report.doing}: the worker's work dir ${workDir} ${fault.type === 'WorkerStorageFull' ? 'is full' : 'refused a write'}: ${describeWorkerFault(fault)}: ${report.detail}.`;
  const figures = `Free in ${workDir}: ${free}${needed}.`;
  const blame = "This is the worker host's fault, not the compose's: the step is retried with back-off.";
  const fix = FIXES[fault.code](workDir, limit);
  return `${head} ${figures} ${blame} ${fault.type === 'WorkerStorageFull' ? `${evicted} ` : ''}Fix: ${fix}`;
}

const FIXES: Record<WorkerFaultCode, (workDir: string, limit: string) => string> = {
  ENOSPC: (dir, limit) =>
    `free space in ${dir}'s volume, give the volume more room, or lower [publish] cache_max_size${limit} below what the volume can hold`,
  EDQUOT: (dir, limit) =>
    `raise the disk quota of the worker's user on ${dir}'s volume, free space there, or lower [publish] cache_max_size${limit}`,
  EACCES: (dir) =>
    `make ${dir} and everything under it writable by the worker's user (chown -R), or point [publish] work_dir at a directory it owns`,
  EPERM: (dir) =>
    `make ${dir} and everything under it writable by the worker's user (chown -R; check its mount options), or point [publish] work_dir at a directory it owns`,
  EROFS: (dir) => `mount ${dir}'s volume read-write, or point [publish] work_dir at a writable volume`,
  EMFILE: () =>
    "raise the worker's open-file limit (ulimit -n, systemd LimitNOFILE, the container's nofile ulimit), or lower [worker] max_concurrent_activities",
  ENFILE: () => 'the host ran out of open files: raise fs.file-max, or run fewer processes on this host',
};

/** "12.0 MiB (12582912 bytes)": exact for whoever compares with df, readable for everyone else. */
export function formatBytes(bytes: number): string {
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 'bytes';
  for (const next of units) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return unit === 'bytes' ? `${bytes} bytes` : `${value.toFixed(1)} ${unit} (${bytes} bytes)`;
}
