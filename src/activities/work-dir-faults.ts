import { Context } from '@temporalio/activity';
import { DomainError } from '../domain/errors.js';
import { workerFaultMessage } from '../domain/worker-storage.js';
import { freeBytes } from '../compose/work-dir-space.js';
import { workerFaultOf } from '../tools/worker-fault.js';
import type { ActivityEnvironment } from './environment.js';

/**
 * Runs an activity body that writes to the work dir; a full or unwritable work dir (ENOSPC, EACCES, EMFILE…, from
 * node or from the tools' output) becomes a retryable WorkerStorageFull or WorkerStorageError naming the work dir,
 * the free and the needed bytes and the fix. Before it is thrown, the cache evicts every image no activity is
 * using, so the retry has the room they took. Run it inside the body's cacheBudget.using(): the image of the step
 * itself stays (its retry needs it).
 */
export async function withWorkDirFaults<T>(
  environment: Pick<ActivityEnvironment, 'workDir' | 'cacheBudget'>,
  doing: string,
  needed: { bytes: number; what: string } | undefined,
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (error) {
    const found = workerFaultOf(error, environment.workDir);
    if (!found) throw error;
    let evicted = { count: 0, bytes: 0 };
    if (found.fault.type === 'WorkerStorageFull') {
      try {
        const { removed, bytes } = environment.cacheBudget.evictUnused();
        evicted = { count: removed.length, bytes };
      } catch {
        // The cache could not be read or trimmed (the same disk trouble): the message says what is free.
      }
    }
    const message = workerFaultMessage({
      fault: found.fault,
      doing,
      workDir: environment.workDir,
      detail: found.detail,
      freeBytes: freeBytes(environment.workDir),
      needed,
      evicted,
      cacheMaxBytes: environment.cacheBudget.maxBytes,
    });
    logFault(message, found.fault.code);
    throw new DomainError(found.fault.type, message);
  }
}

function logFault(message: string, code: string): void {
  try {
    Context.current().log.warn(message, { code });
  } catch {
    // Not in an activity (a test calling it directly): the failure carries the message anyway.
  }
}
