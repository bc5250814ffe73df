import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { loadConfig, publishSettings } from '../../src/config.js';
import type { PublishSettings } from '../../src/domain/settings.js';
import type { SigningKey } from '../../src/activities/signing-key.js';
import { bundleWorkflows, createPublisherWorker } from '../../src/worker.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { type PublishStatus } from '../../src/domain/run-contract/index.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { uniqueTaskQueue } from './temporal.js';

let bundle: Promise<{ code: string }> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<{ code: string }> {
  bundle ??= bundleWorkflows();
  return bundle;
}

/** Settings for a run against the harness registry, under a registry namespace no other test uses. */
export function testSettings(overrides: Partial<PublishSettings> = {}): PublishSettings {
  return {
    registries: [{ url: `${inject('registryHost')}/t${randomUUID().slice(0, 8)}`, tlsVerify: false }],
    repositories: { Container_Base: 'fedora', Container_Minimal_Base: 'fedora-minimal' },
    architectures: { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' },
    releases: { latest: '40', rawhide: '42' },
    waitForOverride: '3s',
    maxParallelPushes: 2,
    ...overrides,
  };
}

export interface PublisherHarness {
  taskQueue: string;
  worker: Worker;
  workDir: string;
  /** The worker's settings: what its runs publish, and where. */
  settings: PublishSettings;
}

/** Starts a publisher worker on its own task queue for the duration of `body`; `settings` is its config (default testSettings()). */
export async function withPublisherWorker<T>(
  env: TestWorkflowEnvironment,
  workDir: string,
  body: (harness: PublisherHarness) => Promise<T>,
  options: {
    env?: NodeJS.ProcessEnv;
    amqpUrl?: string;
    settings?: PublishSettings;
    taskQueue?: string;
    /** [signing], as checkSigningKey returned it. */
    signing?: SigningKey;
  } = {},
): Promise<T> {
  const taskQueue = options.taskQueue ?? uniqueTaskQueue('publish');
  const settings = options.settings ?? testSettings();
  const worker = await createPublisherWorker({
    connection: env.nativeConnection,
    namespace: inject('temporalNamespace'),
    taskQueue,
    workDir: join(workDir, 'worker'),
    settings,
    env: { ...process.env, ...options.env },
    ...(options.amqpUrl ? { broker: { url: options.amqpUrl } } : {}),
    ...(options.signing ? { signing: options.signing } : {}),
    workflowBundle: await workflowBundle(),
  });
  return worker.runUntil(body({ taskQueue, worker, workDir, settings }));
}

/** A worker as `compose-publisher worker --config <file>` would run it: the config's task queue and settings. */
export function withConfiguredWorker<T>(
  env: TestWorkflowEnvironment,
  workDir: string,
  configFile: string,
  body: (harness: PublisherHarness) => Promise<T>,
): Promise<T> {
  const config = loadConfig(configFile);
  return withPublisherWorker(env, workDir, body, {
    taskQueue: config.temporal.task_queue,
    settings: publishSettings(config),
  });
}

/** Runs publishCompose to its end (with the settings of the worker on `taskQueue`); `workflowId` defaults to a unique one so tests can publish a compose twice. */
export async function runPublish(
  env: TestWorkflowEnvironment,
  taskQueue: string,
  input: { location: string; composeId: string },
  workflowId = `publish:${input.composeId}:${randomUUID()}`,
): Promise<PublishStatus> {
  return env.client.workflow.execute(publishCompose, { taskQueue, workflowId, args: [input] });
}

/** Asks the run's status every 100 ms until it reaches `phase` (at most a minute). */
export async function untilPhase(
  handle: WorkflowHandle<typeof publishCompose>,
  phase: PublishStatus['phase'],
): Promise<PublishStatus> {
  for (let i = 0; i < 600; i++) {
    const status = await handle.query(statusQuery);
    if (status.phase === phase) return status;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`run never reached ${phase}`);
}
