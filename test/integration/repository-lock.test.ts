import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repositoryLockId } from '../../src/workflows/repository-lock.js';
import { lockHolder, repositoryLock } from '../support/lock-workflows.js';
import { connectTestEnvironment, uniqueTaskQueue, withWorker } from '../support/temporal.js';

const LOCK_WORKFLOWS = fileURLToPath(new URL('../support/lock-workflows.ts', import.meta.url));

describe('the repository lock', () => {
  let env: TestWorkflowEnvironment;
  let workflowBundle: { code: string };

  beforeAll(async () => {
    env = await connectTestEnvironment();
    workflowBundle = await bundleWorkflowCode({
      workflowsPath: LOCK_WORKFLOWS,
      logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
    });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const inWorker = <T>(body: (taskQueue: string) => Promise<T>) => {
    const taskQueue = uniqueTaskQueue('lock');
    return withWorker(env, { taskQueue, workflowBundle }, () => body(taskQueue));
  };

  /** Starts the lock ourselves, with test-sized limits, before any holder asks for it. */
  async function startLock(taskQueue: string, limits: { holderCheckInterval?: string; maxHistoryEvents?: number }) {
    const key = `test/${randomUUID()}`;
    const handle = await env.client.workflow.start(repositoryLock, {
      taskQueue,
      workflowId: repositoryLockId(key),
      args: [{ queue: [], records: {}, limits }],
    });
    return { key, handle };
  }

  async function eventTypes(workflowId: string, runId?: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    return (history.events ?? []).map((event) => temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'unknown');
  }

  it('grants one holder at a time, in turn, without anyone polling, and keeps its records across continue-as-new', async () => {
    await inWorker(async (taskQueue) => {
      const { key, handle } = await startLock(taskQueue, { maxHistoryEvents: 40 });
      const holders = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          env.client.workflow.start(lockHolder, {
            taskQueue,
            workflowId: `holder-${i}-${randomUUID()}`,
            args: [{ key, holdMs: 300 }],
          }),
        ),
      );
      const held = (await Promise.all(holders.map((holder) => holder.result()))).sort((a, b) => a.granted - b.granted);
      for (let i = 1; i < held.length; i++) expect(held[i]!.granted).toBeGreaterThanOrEqual(held[i - 1]!.released);
      // The last holder was handed the records of the seven before it, though the lock continued as new meanwhile.
      expect(held.map((h) => h.recordsSeen)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      const current = await handle.describe();
      expect(current.runId).not.toBe(handle.firstExecutionRunId);
      expect(current.historyLength).toBeLessThan(80);
      // Waiting wakes no holder up: the only timer that fires is its own hold (the lock's grant is what ends the wait).
      for (const holder of holders) {
        expect((await eventTypes(holder.workflowId)).filter((type) => type === 'EVENT_TYPE_TIMER_FIRED')).toHaveLength(
          1,
        );
      }
    });
  });

  it('passes the lock on when its holder is terminated while holding it', async () => {
    await inWorker(async (taskQueue) => {
      const { key } = await startLock(taskQueue, { holderCheckInterval: '1 second' });
      const stuck = await env.client.workflow.start(lockHolder, {
        taskQueue,
        workflowId: `stuck-${randomUUID()}`,
        args: [{ key, holdMs: 3_600_000 }],
      });
      // Let it take the lock, then let a second run queue behind it.
      await waitFor(async () =>
        (await eventTypes(stuck.workflowId)).some((type) => type === 'EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'),
      );
      const next = await env.client.workflow.start(lockHolder, {
        taskQueue,
        workflowId: `next-${randomUUID()}`,
        args: [{ key, holdMs: 10 }],
      });
      await stuck.terminate('test: a holder that dies holding the lock');
      const terminatedAt = Date.now();
      const held = await next.result();
      console.log(`RECOVERY lock holder terminated: ${((Date.now() - terminatedAt) / 1000).toFixed(1)} s`);
      expect(held.recordsSeen).toBe(0);
      expect(Date.now() - terminatedAt).toBeLessThan(15_000);
    });
  });

  it('is not fooled by forged signals: an acquire for a run that does not exist or never asked, a release by someone else', async () => {
    await inWorker(async (taskQueue) => {
      const { key, handle } = await startLock(taskQueue, { holderCheckInterval: '1 second' });
      // A run that never asked for the lock hands a grant straight back; one that does not exist cannot take it.
      const bystander = await env.client.workflow.start(lockHolder, {
        taskQueue,
        workflowId: `bystander-${randomUUID()}`,
        args: [{ key: `other/${randomUUID()}`, holdMs: 60_000 }],
      });
      await handle.signal('acquire', {
        workflowId: bystander.workflowId,
        runId: bystander.firstExecutionRunId,
        requestId: 'forged-1',
      });
      await handle.signal('acquire', {
        workflowId: `nobody-${randomUUID()}`,
        runId: randomUUID(),
        requestId: 'forged-2',
      });
      const holder = await env.client.workflow.start(lockHolder, {
        taskQueue,
        workflowId: `holder-${randomUUID()}`,
        args: [{ key, holdMs: 2_000 }],
      });
      await waitFor(async () =>
        (await eventTypes(holder.workflowId)).includes('EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED'),
      );
      // A release that does not carry the holder's request id changes nothing: the next run waits for the holder.
      await handle.signal('release', {
        requestId: 'forged-1',
        records: [
          {
            registry: 'registry.test',
            tag: 'forged',
            digest: `sha256:${'f'.repeat(64)}`,
            composeId: 'Fedora-99-20990101.n.0',
          },
        ],
      });
      const next = await env.client.workflow.start(lockHolder, {
        taskQueue,
        workflowId: `next-${randomUUID()}`,
        args: [{ key, holdMs: 10 }],
      });
      const [first, second] = await Promise.all([holder.result(), next.result()]);
      expect(second.granted).toBeGreaterThanOrEqual(first.released);
      expect(second.recordsSeen).toBe(1);
      await bystander.terminate('test done');
    });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
