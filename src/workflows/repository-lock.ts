import {
  ApplicationFailure,
  CancellationScope,
  condition,
  continueAsNew,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  ParentClosePolicy,
  setHandler,
  startChild,
  uuid4,
  workflowInfo,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';
import { archTagKey, type ArchTagRecord } from '../domain/arch-tags.js';
import type { FailureType } from '../domain/failure-types.js';

/** A run asking for the lock; the lock answers with grantSignal to exactly this run. */
export interface LockRequest {
  workflowId: string;
  runId: string;
  requestId: string;
}

export interface LockGrant {
  requestId: string;
  lockWorkflowId: string;
  /** What the lock knows of the repository's arch tags: the compose each run that wrote one said it came from. */
  records: Record<string, ArchTagRecord>;
}

export interface LockRelease {
  requestId: string;
  /** Arch tags the holder wrote. */
  records: ArchTagRecord[];
}

export interface RepositoryLockState {
  queue: LockRequest[];
  holder?: LockRequest;
  records: Record<string, ArchTagRecord>;
  /** Shorter limits, for tests that start a lock themselves; defaults otherwise. */
  limits?: { holderCheckInterval?: string; maxHistoryEvents?: number };
}

export const acquireSignal = defineSignal<[LockRequest]>('acquire');
export const releaseSignal = defineSignal<[LockRelease]>('release');
/** Sent by the lock to the run whose turn it is. */
export const grantSignal = defineSignal<[LockGrant]>('lock-granted');
/** Sent by the lock to its holder now and then: the signal fails once the holder's run has closed. */
export const holderCheckSignal = defineSignal('lock-holder-check');

/** How long a holder may keep the lock before the lock checks that its run still exists. */
const HOLDER_CHECK_INTERVAL = '2 minutes';
/** How often a waiting run repeats its request, in case the lock it waits on was terminated. */
const REQUEST_RENEWAL_INTERVAL = '10 minutes';
/** The lock's own history stays short: it continues as new past this many events. */
const MAX_HISTORY_EVENTS = 2_000;

export function repositoryLockId(key: string): string {
  return `repository-lock:${key}`;
}

/**
 * The lock of one repository on one set of registries, and what it knows of the repository's arch tags. Runs
 * queue with acquireSignal and are granted the lock one at a time, in order; the holder keeps it until it sends
 * releaseSignal, or until its run has closed (terminated, reset, timed out). Nobody polls: a waiting run is
 * told when it is its turn, and an idle lock waits without a timer. Runs forever, continuing as new.
 */
export async function repositoryLock(state: RepositoryLockState = { queue: [], records: {} }): Promise<void> {
  const { queue, records, limits } = state;
  const holderCheckInterval = limits?.holderCheckInterval ?? HOLDER_CHECK_INTERVAL;
  const maxHistoryEvents = limits?.maxHistoryEvents ?? MAX_HISTORY_EVENTS;
  let holder = state.holder;
  setHandler(acquireSignal, (request) => {
    if (holder?.requestId === request.requestId || queue.some((queued) => queued.requestId === request.requestId))
      return;
    queue.push(request);
  });
  setHandler(releaseSignal, (release) => {
    if (holder?.requestId !== release.requestId) return;
    for (const record of release.records) records[archTagKey(record.registry, record.tag)] = record;
    holder = undefined;
  });
  for (;;) {
    if (workflowInfo().historyLength > maxHistoryEvents || workflowInfo().continueAsNewSuggested) {
      await continueAsNew<typeof repositoryLock>({
        queue,
        records,
        ...(holder ? { holder } : {}),
        ...(limits ? { limits } : {}),
      });
    }
    if (!holder) {
      await condition(() => queue.length > 0);
      const next = queue.shift() as LockRequest;
      const granted = await trySignal(next, grantSignal, {
        requestId: next.requestId,
        lockWorkflowId: workflowInfo().workflowId,
        records,
      });
      if (granted) holder = next;
      continue;
    }
    const released = await condition(() => holder === undefined, holderCheckInterval);
    if (!released && holder && !(await trySignal(holder, holderCheckSignal))) {
      log.warn('lock holder closed without releasing the lock', { holder: holder.workflowId, runId: holder.runId });
      holder = undefined;
    }
  }
}

/** Signals one run (by run id); false when that run has closed. */
async function trySignal<Args extends unknown[]>(
  to: LockRequest,
  signal: ReturnType<typeof defineSignal<Args>>,
  ...args: Args
): Promise<boolean> {
  try {
    await getExternalWorkflowHandle(to.workflowId, to.runId).signal(signal, ...args);
    return true;
  } catch {
    return false;
  }
}

export interface RepositoryLocks {
  /**
   * Runs `body` holding the lock `key`. `body` gets the lock's arch tag records, and adds to `written` each arch tag
   * it writes: the lock keeps them when it is released, whether `body` ends well or not.
   */
  withLock<T>(
    key: string,
    body: (records: Readonly<Record<string, ArchTagRecord>>, written: ArchTagRecord[]) => Promise<T>,
  ): Promise<T>;
}

/** The requesting side, for one run: call once, before any withLock (it sets the run's lock signal handlers). */
export function repositoryLocks(): RepositoryLocks {
  const grants = new Map<string, LockGrant | undefined>();
  setHandler(grantSignal, (grant) => {
    if (grants.has(grant.requestId)) {
      grants.set(grant.requestId, grant);
      return;
    }
    // Not asked for (or no longer): hand it straight back, or the lock would wait for this run to close.
    void getExternalWorkflowHandle(grant.lockWorkflowId)
      .signal(releaseSignal, { requestId: grant.requestId, records: [] })
      .catch(() => undefined);
  });
  setHandler(holderCheckSignal, () => undefined);

  return {
    async withLock(key, body) {
      const lockId = repositoryLockId(key);
      const { workflowId, runId } = workflowInfo();
      const request: LockRequest = { workflowId, runId, requestId: uuid4() };
      grants.set(request.requestId, undefined);
      try {
        await requestLock(lockId, request);
        // A lock that was terminated meanwhile would never answer: ask again now and then (a request already
        // queued is not queued twice; a lock that is gone is started anew).
        while (!(await condition(() => grants.get(request.requestId) !== undefined, REQUEST_RENEWAL_INTERVAL)))
          await requestLock(lockId, request);
      } catch (error) {
        grants.delete(request.requestId);
        throw error;
      }
      const grant = grants.get(request.requestId) as LockGrant;
      const written: ArchTagRecord[] = [];
      try {
        return await body(grant.records, written);
      } finally {
        grants.delete(request.requestId);
        await CancellationScope.nonCancellable(async () => {
          try {
            await getExternalWorkflowHandle(lockId).signal(releaseSignal, {
              requestId: request.requestId,
              records: written,
            });
          } catch (error) {
            log.warn('could not release the repository lock (it was terminated?)', { lockId, error: String(error) });
          }
        });
      }
    },
  };
}

/** Queues the request at the lock, starting the lock first when it does not run yet. */
async function requestLock(lockId: string, request: LockRequest): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await getExternalWorkflowHandle(lockId).signal(acquireSignal, request);
      return;
    } catch {
      // No such lock yet (or it just closed): start it with our request queued.
    }
    try {
      await startChild(repositoryLock, {
        workflowId: lockId,
        args: [{ queue: [request], records: {} }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
      return;
    } catch (error) {
      // WorkflowExecutionAlreadyStartedError (not re-exported by @temporalio/workflow): another run started it first.
      if (!(error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError')) throw error;
    }
  }
  throw ApplicationFailure.nonRetryable(
    `could not reach or start the lock ${lockId}`,
    'LockUnavailable' satisfies FailureType,
  );
}
