import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as activities from '../support/harness-activities.js';
import { limiterProbe } from '../support/harness-workflows.js';
import { connectTestEnvironment, uniqueTaskQueue, withWorker } from '../support/temporal.js';

describe('the workflow limiter (max_parallel_pushes)', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectTestEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it.each([1, 3])('never lets more than %i bodies run at once, also when several wait for one slot', async (limit) => {
    const taskQueue = uniqueTaskQueue('limiter');
    const most = await withWorker(
      env,
      {
        taskQueue,
        activities,
        workflowsPath: fileURLToPath(new URL('../support/harness-workflows.ts', import.meta.url)),
      },
      () =>
        env.client.workflow.execute(limiterProbe, { taskQueue, workflowId: `limiter-${taskQueue}`, args: [limit, 7] }),
    );
    expect(most).toBe(limit);
  });
});
