import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { toFailure } from '../../src/activities/failures.js';
import { formatStatus } from '../../src/cli/format-status.js';
import { retryingActivities } from '../../src/client/publish-runs.js';
import { CacheBudget } from '../../src/compose/cache-budget.js';
import { DomainError } from '../../src/domain/errors.js';
import { isRetryable } from '../../src/domain/failure-types.js';
import {
  formatBytes,
  workerFaultInOutput,
  workerFaultMessage,
  workerFaultOfCode,
} from '../../src/domain/worker-storage.js';
import { classifyToolFailure, ToolError } from '../../src/tools/tool-error.js';
import { workerFaultOf } from '../../src/tools/worker-fault.js';
import { testTempDir } from './helpers/temp-dir.js';

/** A node fs error as node makes it: code, syscall and (for calls on a path) the path. */
function errno(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall}${path ? ` '${path}'` : ''}`), {
    code,
    syscall,
    ...(path ? { path } : {}),
  });
}

describe('the worker-fault classifier', () => {
  it.each([
    // What the tools print, word for word (GNU tar, xz, gzip; skopeo and buildah through Go's strerror).
    [
      'tar: ./blobs/sha256/4f1c: Cannot write: No space left on device\ntar: Exiting with failure status due to previous errors',
      'WorkerStorageFull',
      'ENOSPC',
    ],
    ['xz: (stdout): Write error: No space left on device', 'WorkerStorageFull', 'ENOSPC'],
    ['gzip: stdout: No space left on device', 'WorkerStorageFull', 'ENOSPC'],
    [
      'time="…" level=fatal msg="writing blob: storing blob to file \\"/work/tmp/container_images_storage123/1\\": write /work/tmp/container_images_storage123/1: no space left on device"',
      'WorkerStorageFull',
      'ENOSPC',
    ],
    [
      'Error: creating build container: write /work/storage/vfs/dir/abc/x: disk quota exceeded',
      'WorkerStorageFull',
      'EDQUOT',
    ],
    ['tar: ./oci-layout: Cannot open: Permission denied', 'WorkerStorageError', 'EACCES'],
    ['tar: blobs: Cannot mkdir: Read-only file system', 'WorkerStorageError', 'EROFS'],
    ['Error: open /work/scratch/x.digest: too many open files', 'WorkerStorageError', 'EMFILE'],
    ['xz: /compose/image.oci.tar.xz: Too many open files in system', 'WorkerStorageError', 'ENFILE'],
    ['tar: ./index.json: Cannot utime: Operation not permitted', 'WorkerStorageError', 'EPERM'],
  ])('reads %j as %s', (output, type, code) => {
    expect(workerFaultInOutput(output)).toEqual({ type, code });
    const error = new ToolError(classifyToolFailure(output), 'tar', 'tar --extract', output, 2);
    expect(workerFaultOf(error)?.fault).toEqual({ type, code });
  });

  it.each([
    'xz: (stdin): Unexpected end of input',
    'tar: This does not look like a tar archive',
    'gzip: stdin: not in gzip format',
    'Error: reading manifest 40 in quay.io/fedora/fedora: manifest unknown',
    'Error: writing blob: initiating layer upload: unauthorized: access to the requested resource is not authorized',
  ])('leaves %j to the compose or the registry', (output) => {
    expect(workerFaultInOutput(output)).toBeUndefined();
    expect(
      workerFaultOf(new ToolError(classifyToolFailure(output), 'skopeo', 'skopeo copy', output, 1)),
    ).toBeUndefined();
  });

  it('never blames the disk for a registry that refuses the credentials, whatever else it says', () => {
    const output = 'Error: denied: requested access to the resource is denied (permission denied)';
    expect(classifyToolFailure(output)).toBe('unauthorized');
    expect(workerFaultOf(new ToolError('unauthorized', 'skopeo', 'skopeo copy', output, 1))).toBeUndefined();
  });

  it.each([
    ['ENOSPC', 'WorkerStorageFull'],
    ['EDQUOT', 'WorkerStorageFull'],
    ['EACCES', 'WorkerStorageError'],
    ['EPERM', 'WorkerStorageError'],
    ['EROFS', 'WorkerStorageError'],
    ['EMFILE', 'WorkerStorageError'],
    ['ENFILE', 'WorkerStorageError'],
  ])('maps the errno %s to %s, a retryable type', (code, type) => {
    expect(workerFaultOfCode(code)).toEqual({ type, code });
    expect(isRetryable(type as 'WorkerStorageFull')).toBe(true);
  });

  it.each(['ENOENT', 'ECONNRESET', 'EISDIR', 'ENOTEMPTY', undefined])('maps %s to nothing', (code) => {
    expect(workerFaultOfCode(code)).toBeUndefined();
  });

  it('blames the work dir for a refused write there, not for a compose file the worker may not read', () => {
    const workDir = '/var/lib/compose-publisher/work';
    expect(workerFaultOf(errno('EACCES', 'open', `${workDir}/cache/x.part`), workDir)?.fault.code).toBe('EACCES');
    expect(workerFaultOf(errno('EACCES', 'open', '/mnt/koji/compose/x.oci.tar.xz'), workDir)).toBeUndefined();
    expect(workerFaultOf(errno('EACCES', 'open', `${workDir}-other/x`), workDir)).toBeUndefined();
    // A full disk or too many open files is the worker's wherever it happens; a write error carries no path.
    expect(workerFaultOf(errno('ENOSPC', 'write'), workDir)?.fault).toEqual({
      type: 'WorkerStorageFull',
      code: 'ENOSPC',
    });
    expect(workerFaultOf(errno('EMFILE', 'open', '/mnt/koji/compose/x'), workDir)?.fault.code).toBe('EMFILE');
    // Found through causes, as a wrapped error carries it.
    expect(workerFaultOf(new Error('download failed', { cause: errno('ENOSPC', 'write') }), workDir)?.fault.code).toBe(
      'ENOSPC',
    );
    expect(workerFaultOf(errno('ENOENT', 'open', `${workDir}/x`), workDir)).toBeUndefined();
  });

  it("turns an uncaught worker fault into a retryable failure of the worker's type, never a compose type", () => {
    const failure = toFailure(
      new ToolError('unknown', 'tar', 'tar --extract', 'tar: x: Cannot write: No space left on device', 2),
      'preparing x.oci.tar.xz',
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'WorkerStorageFull', nonRetryable: false });
    expect(failure.message).toMatch(
      /^preparing x\.oci\.tar\.xz: no space left on device \(ENOSPC\) on the worker's host: tar: .*not the compose's/,
    );
    expect(toFailure(errno('EROFS', 'mkdir', '/w/cache/x.part'), 'preparing x')).toMatchObject({
      type: 'WorkerStorageError',
      nonRetryable: false,
    });
    // A DomainError made by withWorkDirFaults keeps its type and message.
    expect(toFailure(new DomainError('WorkerStorageFull', 'full'), 'x')).toMatchObject({
      type: 'WorkerStorageFull',
      nonRetryable: false,
      message: 'full',
    });
  });

  it('says whose fault it is, with the work dir, the free and the needed bytes, what was evicted and the fix', () => {
    const message = workerFaultMessage({
      fault: { type: 'WorkerStorageFull', code: 'ENOSPC' },
      doing: 'preparing Fedora-Container-Base-Generic-40.aarch64.oci.tar.xz',
      workDir: '/srv/work',
      detail: 'tar: ./blobs/sha256/ab: Cannot write: No space left on device',
      freeBytes: 4096,
      needed: { bytes: 25165824, what: 'the 12582912-byte image downloaded, and unpacked beside it' },
      evicted: { count: 2, bytes: 2 * 1024 * 1024 },
      cacheMaxBytes: 20 * 1024 ** 3,
    });
    expect(message).toBe(
      "preparing Fedora-Container-Base-Generic-40.aarch64.oci.tar.xz: the worker's work dir /srv/work is full: no space left on device (ENOSPC): " +
        'tar: ./blobs/sha256/ab: Cannot write: No space left on device. Free in /srv/work: 4.0 KiB (4096 bytes); this step needs about 24.0 MiB (25165824 bytes) ' +
        "(the 12582912-byte image downloaded, and unpacked beside it). This is the worker host's fault, not the compose's: the step is retried with back-off. " +
        'The cache evicted 2 images no run is using (2.0 MiB (2097152 bytes)) before the retry. ' +
        "Fix: free space in /srv/work's volume, give the volume more room, or lower [publish] cache_max_size (now 20.0 GiB (21474836480 bytes)) below what the volume can hold",
    );
    const denied = workerFaultMessage({
      fault: { type: 'WorkerStorageError', code: 'EACCES' },
      doing: 'x',
      workDir: '/srv/work',
      detail: 'd',
      evicted: { count: 0, bytes: 0 },
    });
    expect(denied).toContain("the worker's work dir /srv/work refused a write: permission denied (EACCES)");
    expect(denied).toContain('Fix: make /srv/work and everything under it writable');
    expect(denied).not.toContain('evicted');
    expect(formatBytes(1023)).toBe('1023 bytes');
  });
});

describe('eviction and status for a worker fault', () => {
  it('evicts every cached image no activity is using, keeping the pinned one', async () => {
    const dir = testTempDir('evict-');
    for (const name of ['a', 'b', 'c']) {
      mkdirSync(join(dir, `${name.repeat(64)}.oci`, 'blobs'), { recursive: true });
      writeFileSync(join(dir, `${name.repeat(64)}.oci`, 'blobs', 'x'), Buffer.alloc(1000));
    }
    writeFileSync(join(dir, `${'d'.repeat(64)}.0000.oci.tar.xz.part`), Buffer.alloc(10)); // a download in progress
    const budget = new CacheBudget(dir, 10 ** 9);
    expect(budget.heldBytes()).toBe(3000);
    const evicted = await budget.using(join(dir, `${'b'.repeat(64)}.oci`), () => Promise.resolve(budget.evictUnused()));
    expect(evicted.bytes).toBe(2000);
    expect(evicted.removed.map((path) => path.split('/').at(-1)![0]).sort()).toEqual(['a', 'c']);
    expect(readdirSync(dir).sort()).toEqual([`${'b'.repeat(64)}.oci`, `${'d'.repeat(64)}.0000.oci.tar.xz.part`]);
  });

  it("shows a running run's retried activity, its attempt and its last failure in status", () => {
    type Pending = Parameters<typeof retryingActivities>[0];
    const retrying = retryingActivities([
      {
        activityType: { name: 'prepareImage' },
        attempt: 3,
        nextAttemptScheduleTime: { seconds: 1_700_000_000, nanos: 0 },
        lastFailure: {
          message: "preparing x: the worker's work dir /w is full",
          applicationFailureInfo: { type: 'WorkerStorageFull' },
        },
      },
      { activityType: { name: 'prepareImage' }, attempt: 1 },
    ] as unknown as Pending);
    expect(retrying).toEqual([
      {
        activity: 'prepareImage',
        attempt: 3,
        type: 'WorkerStorageFull',
        failure: "preparing x: the worker's work dir /w is full",
        nextAttemptAt: '2023-11-14T22:13:20.000Z',
      },
    ]);
    const text = formatStatus({
      composeId: 'Fedora-40-20240501.n.0',
      manifestTags: [],
      phase: 'preparing-images',
      repositories: [],
      rejectedOverrides: [],
      retrying,
    });
    expect(text).toContain(
      "retrying (the run waits and tries again):\n  prepareImage (attempt 3, next at 2023-11-14T22:13:20.000Z): WorkerStorageFull: preparing x: the worker's work dir /w is full",
    );
  });
});
