// LEGACY, for replay only: the lock of runs started before the patch `repository-lock` (repository-lock.ts replaced
// it). The indexLock workflow stays registered while any run that may start it is open. Delete with publication.ts
// (docs/operators.md, "Retiring old-history code").
import {
  CancellationScope,
  condition,
  defineSignal,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  WorkflowIdReusePolicy,
} from '@temporalio/workflow';

export const releaseIndexLockSignal = defineSignal('release');

/**
 * A lock, held by being the running workflow with a given id: while one run compares and writes a repository's
 * index, another run for the same repository waits, so "compare before write" cannot interleave with a second writer.
 */
export async function indexLock(): Promise<void> {
  let released = false;
  setHandler(releaseIndexLockSignal, () => {
    released = true;
  });
  // A holder that hangs (e.g. a registry that never answers) must not block every later compose forever.
  await condition(() => released, '1 hour');
}

/** Runs `body` holding the lock named `key`; the lock dies with the holder (parent close policy TERMINATE). */
export async function withIndexLock<T>(key: string, body: () => Promise<T>): Promise<T> {
  for (;;) {
    let lock;
    try {
      lock = await startChild(indexLock, {
        workflowId: `index-lock:${key}`,
        parentClosePolicy: ParentClosePolicy.TERMINATE,
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      });
    } catch (error) {
      // WorkflowExecutionAlreadyStartedError (not re-exported by @temporalio/workflow): someone holds the lock.
      if (!(error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError')) throw error;
      await sleep('2 seconds');
      continue;
    }
    try {
      return await body();
    } finally {
      await CancellationScope.nonCancellable(() => lock.signal(releaseIndexLockSignal));
    }
  }
}
