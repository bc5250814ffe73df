import { closeSync, openSync, readFileSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** The holder touches its lock this often; a lock untouched for LEASE_MS belongs to a worker that is gone. */
const REFRESH_MS = 30_000;
const LEASE_MS = 3 * REFRESH_MS;

interface Holder {
  pid: number;
  host: string;
}

/** Another live worker process holds the work dir. */
export class WorkDirInUse extends Error {
  override readonly name = 'WorkDirInUse';
}

const held = new Map<string, { timer: NodeJS.Timeout }>();

/**
 * Claims `workDir` for this worker process. Two workers on one work dir would sweep each other's half-written
 * files at start and unpack the same image into the same cache entry, so the second one is refused, naming the
 * first. A lock left by a worker that is gone is taken over: at once when it was on this host and its process has
 * ended, else once it has not been refreshed for LEASE_MS (a worker on another host, e.g. a re-created container
 * sharing the volume).
 */
export function lockWorkDir(workDir: string, now = Date.now()): void {
  const file = join(workDir, 'worker.lock');
  if (held.has(file)) return;
  const self: Holder = { pid: process.pid, host: hostname() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, JSON.stringify(self));
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = readHolder(file);
      if (holder && holder.pid === self.pid && holder.host === self.host) break;
      if (holder && isAlive(holder, self, file, now)) {
        throw new WorkDirInUse(
          `[publish] work_dir ${workDir} is in use by another worker (pid ${holder.pid} on ${holder.host}, lock ${file}). ` +
            `Give each worker process its own work_dir; if that worker is gone, delete ${file}.`,
        );
      }
      rmSync(file, { force: true });
    }
  }
  const timer = setInterval(() => {
    const t = new Date();
    try {
      utimesSync(file, t, t);
    } catch {
      // The work dir was removed under us (a test's temp dir): nothing left to guard.
    }
  }, REFRESH_MS);
  timer.unref();
  held.set(file, { timer });
  process.once('exit', () => {
    if (readHolder(file)?.pid === self.pid) rmSync(file, { force: true });
  });
}

function readHolder(file: string): Holder | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string'
      ? { pid: parsed.pid, host: parsed.host }
      : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(holder: Holder, self: Holder, file: string, now: number): boolean {
  if (holder.host === self.host) {
    try {
      process.kill(holder.pid, 0);
      return true;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
  try {
    return now - statSync(file).mtimeMs < LEASE_MS;
  } catch {
    return false;
  }
}
