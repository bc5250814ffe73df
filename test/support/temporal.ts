import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, DefaultLogger, Worker, type WorkerOptions } from '@temporalio/worker';
import { inject } from 'vitest';

let runtimeInstalled = false;

/** A client environment connected to the Temporal dev server that globalSetup started. */
export async function connectTestEnvironment(): Promise<TestWorkflowEnvironment> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  return TestWorkflowEnvironment.createFromExistingServer({
    address: inject('temporalAddress'),
    namespace: inject('temporalNamespace'),
  });
}

let taskQueueCounter = 0;
/** A task queue no other test file uses, so workers never steal each other's tasks. */
export function uniqueTaskQueue(prefix: string): string {
  taskQueueCounter += 1;
  return `${prefix}-${process.pid}-${taskQueueCounter}`;
}

/** Runs `body` while a worker polls; the worker is shut down afterwards, also when body throws. */
export async function withWorker<T>(
  env: TestWorkflowEnvironment,
  options: Omit<WorkerOptions, 'connection' | 'namespace'>,
  body: (worker: Worker) => Promise<T>,
): Promise<T> {
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: inject('temporalNamespace'),
    ...options,
  });
  return worker.runUntil(body(worker));
}

/** A fresh directory under the run's scratch directory. */
export function scratchSubdir(name: string): string {
  return mkdtempSync(join(inject('scratchDir'), `${name}-`));
}
