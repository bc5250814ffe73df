import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import * as activities from '../support/harness-activities.js';
import { harnessEcho } from '../support/harness-workflows.js';
import { connectTestEnvironment, uniqueTaskQueue, withWorker } from '../support/temporal.js';

describe('test harness', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await connectTestEnvironment();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('runs a workflow and its activity on the shared Temporal dev server', async () => {
    const taskQueue = uniqueTaskQueue('harness');
    const result = await withWorker(
      env,
      {
        taskQueue,
        activities,
        workflowsPath: fileURLToPath(new URL('../support/harness-workflows.ts', import.meta.url)),
      },
      () =>
        env.client.workflow.execute(harnessEcho, { taskQueue, workflowId: `harness-${taskQueue}`, args: ['registry'] }),
    );
    expect(result).toBe('hello, registry');
  });

  it('has the search attributes the workflows upsert', async () => {
    const response = await env.connection.operatorService.listSearchAttributes({
      namespace: inject('temporalNamespace'),
    });
    expect(Object.keys(response.customAttributes)).toEqual(
      expect.arrayContaining(['ComposeId', 'Release', 'GateDecision']),
    );
  });

  it('has a registry that answers the v2 API', async () => {
    const response = await fetch(`http://${inject('registryHost')}/v2/`);
    expect(response.status).toBe(200);
  });
});
