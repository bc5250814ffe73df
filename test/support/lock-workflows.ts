import { sleep, workflowInfo } from '@temporalio/workflow';
import { repositoryLocks } from '../../src/workflows/repository-lock.js';

export { repositoryLock } from '../../src/workflows/repository-lock.js';

export interface HeldLock {
  /** Workflow time the lock was granted and given back, ms since the epoch. */
  granted: number;
  released: number;
  /** How many arch tag records the lock handed over with the grant. */
  recordsSeen: number;
}

/** Takes the repository lock `key`, holds it `holdMs`, records one arch tag under its own name, and gives it back. */
export async function lockHolder(input: { key: string; holdMs: number }): Promise<HeldLock> {
  const locks = repositoryLocks();
  return locks.withLock(input.key, async (records, written) => {
    const granted = Date.now();
    await sleep(input.holdMs);
    const { workflowId } = workflowInfo();
    written.push({
      registry: 'registry.test',
      tag: workflowId,
      digest: `sha256:${'0'.repeat(64)}`,
      composeId: 'Fedora-40-20240501.n.0',
    });
    return { granted, released: Date.now(), recordsSeen: Object.keys(records).length };
  });
}
