import { setTimeout as sleep } from 'node:timers/promises';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, WorkflowIdReusePolicy } from '@temporalio/common';
import { locateCompose } from '../compose/read-compose.js';
import { allowedLocations, type Config } from '../config.js';
import { ClientError } from './client-error.js';
import { DomainError } from '../domain/errors.js';
import { checkRunRequest } from '../domain/run-input.js';
import { runStaticDetails, runSummary } from '../domain/run-details.js';
// The workflow by its type only: the CLI loads no workflow code (about 0.1 s of its start).
import type { publishCompose } from '../workflows/publish-compose.js';
import type { OverrideRecord, OverrideRequest } from '../domain/override.js';
import { overrideUpdate, statusQuery } from '../workflows/messages.js';
import {
  decisionsOfMemo,
  GATE_DECISION,
  keywordListOf,
  PUBLISH_WORKFLOW_TYPE,
  publishWorkflowId,
  type PublishStatus,
} from '../domain/run-contract/index.js';

/** Runs that ended without success may be started again by `publish`. */
const RESTARTABLE = new Set(['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT']);

export interface StartedRun {
  composeId: string;
  workflowId: string;
  /** False when a run for this compose already existed: nothing new was started. */
  started: boolean;
  handle: WorkflowHandle<typeof publishCompose>;
  /** When started is false and we saw the existing run: its status (RUNNING, COMPLETED, …). */
  existingStatus?: string;
}

/**
 * Starts the run for the compose at `location`, idempotently: the workflow id is publish:<compose id>, a running
 * or completed run is reused, and only a failed, terminated or cancelled one may be started again.
 */
export async function startPublishRun(client: Client, config: Config, location: string): Promise<StartedRun> {
  const { root, composeId } = await readComposeToPublish(config, location);
  return startRunForCompose(client, config, root, composeId);
}

/**
 * What `publish` checks before it asks Temporal anything: the location's scheme and shape, that it is under
 * [compose] allowed_locations, and that its metadata can be read (its root and compose id). A wrong location is a
 * bad request (exit 2); a host that does not answer is not (exit 1), and nothing here retries.
 */
export async function readComposeToPublish(
  config: Config,
  location: string,
): Promise<{ root: string; composeId: string }> {
  try {
    const found = await locateCompose(location, { allowed: allowedLocations(config) });
    return { root: found.root, composeId: found.info.composeId };
  } catch (error) {
    const message = (error as Error).message.replace(/; will retry( then)?$/, '');
    throw new ClientError(
      error instanceof DomainError ? 'bad-request' : 'unreachable',
      `cannot read the compose at ${location}: ${message}`,
    );
  }
}

/**
 * startPublishRun for a caller that already read the compose id from `root` (a normalized location), e.g. the
 * listener, which checks it against the message first. Same idempotency rules.
 */
export async function startRunForCompose(
  client: Client,
  config: Config,
  root: string,
  composeId: string,
): Promise<StartedRun> {
  try {
    checkRunRequest({ location: root, composeId }, Date.now());
  } catch (error) {
    if (error instanceof DomainError) throw new ClientError('bad-request', error.message);
    throw error;
  }
  const workflowId = publishWorkflowId(composeId);
  const existing = client.workflow.getHandle<typeof publishCompose>(workflowId);
  const previous = await existing.describe().catch(() => undefined);
  if (previous && !RESTARTABLE.has(previous.status.name)) {
    return { composeId, workflowId, started: false, handle: existing, existingStatus: previous.status.name };
  }
  try {
    const handle = await client.workflow.start<typeof publishCompose>(PUBLISH_WORKFLOW_TYPE, {
      workflowId,
      taskQueue: config.temporal.task_queue,
      args: [{ location: root, composeId }],
      // What the Temporal UI shows in the list and at the top of the run, before the run has said anything itself.
      staticSummary: runSummary(composeId, Object.values(config.repositories)),
      staticDetails: runStaticDetails({
        composeId,
        location: root,
        registries: config.registries.map((registry) => registry.url),
        repositories: Object.values(config.repositories),
      }),
      // A run that is still going (or started by someone else a moment ago) makes the server refuse: see below.
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
    });
    return { composeId, workflowId, started: true, handle };
  } catch (error) {
    // Someone else started it between our look and our start: theirs is the run.
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    return { composeId, workflowId, started: false, handle: existing };
  }
}

/** An activity of a running run whose last attempt failed and is retried: what the run waits on, and why. */
export interface RetryingActivity {
  /** prepareImage, uploadArchImage, … */
  activity: string;
  /** The attempt now running or scheduled (2 after one failure). */
  attempt: number;
  /** The failure type of the last attempt, e.g. WorkerStorageFull. */
  type?: string;
  /** The last attempt's failure message. */
  failure: string;
  /** When the next attempt starts (ISO 8601), while it waits for it. */
  nextAttemptAt?: string;
}

/** A run's status as `status` shows it: the run's own (its query or result), and what the client saw of its retries. */
export type RunStatus = PublishStatus & {
  /** Activities of a running run that failed and are retried (Temporal's pending activities with a last failure). */
  retrying?: RetryingActivity[];
};

/** The live status of a running run (query), or the result of a finished one (no worker needed). */
export async function readRunStatus(client: Client, composeId: string): Promise<RunStatus> {
  const handle = client.workflow.getHandle<typeof publishCompose>(publishWorkflowId(composeId));
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError))
      throw new ClientError(
        'unreachable',
        `cannot ask Temporal about compose ${composeId}: ${(error as Error).message}`,
      );
    throw new ClientError(
      'bad-request',
      `no run for compose ${composeId} (workflow id ${publishWorkflowId(composeId)}); start one with \`compose-publisher publish <location>\``,
    );
  }
  if (description.status.name === 'RUNNING') {
    const status: RunStatus = await handle.query(statusQuery);
    const retrying = retryingActivities(description.raw.pendingActivities);
    return retrying.length > 0 ? { ...status, retrying } : status;
  }
  return finishedStatus(handle, composeId, recordedDecisions(description.memo));
}

type PendingActivity = NonNullable<Awaited<ReturnType<WorkflowHandle['describe']>>['raw']['pendingActivities']>[number];

/**
 * The pending activities that failed at least once, from a describe(): Temporal keeps the last failure of an
 * activity it retries there (not in the history, which records only the final outcome), so this is where a
 * retried WorkerStorageFull or TransientRegistryError is seen while the run waits.
 */
export function retryingActivities(pending: readonly PendingActivity[] | null | undefined): RetryingActivity[] {
  return (pending ?? []).flatMap((activity) => {
    const failure = activity.lastFailure;
    if (!failure?.message) return [];
    const type = failure.applicationFailureInfo?.type ?? failure.cause?.applicationFailureInfo?.type ?? undefined;
    const next = timestampIso(activity.nextAttemptScheduleTime);
    return [
      {
        activity: activity.activityType?.name ?? '?',
        attempt: activity.attempt ?? 1,
        ...(type ? { type } : {}),
        failure: failure.message,
        ...(next ? { nextAttemptAt: next } : {}),
      },
    ];
  });
}

function timestampIso(
  timestamp: { seconds?: number | { toNumber(): number } | null; nanos?: number | null } | null | undefined,
): string | undefined {
  if (!timestamp?.seconds) return undefined;
  const seconds = typeof timestamp.seconds === 'number' ? timestamp.seconds : timestamp.seconds.toNumber();
  return new Date(seconds * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6)).toISOString();
}

/**
 * Waits until the run ends, or until every repository is decided and only operators can move it on
 * (phase awaiting-override). A failed run gives its recorded decisions and the error. When no worker polls the
 * run's task queue, `onNoWorker` hears of it once (the run cannot move until one does).
 */
export async function waitForRun(
  handle: WorkflowHandle<typeof publishCompose>,
  composeId: string,
  options: { pollMs?: number; onNoWorker?: (taskQueue: string) => void } = {},
): Promise<PublishStatus> {
  let warned = false;
  let worker = true;
  // The end of the run arrives through a long poll, at once; the override wait is seen through the status query.
  let ended = false;
  // Aborted on return: a long poll left pending would be retried after its connection is closed, and crash the process.
  const longPoll = new AbortController();
  const end = handle.client
    .withAbortSignal(longPoll.signal, () => handle.result())
    .then(
      () => (ended = true),
      () => (ended = true),
    );
  // Unreferenced: a wait still pending when the run ends must not keep the process alive for up to a poll.
  const pause = () => Promise.race([sleep(options.pollMs ?? 1_000, undefined, { ref: false }), end]);
  try {
    for (let poll = 0; ; poll++) {
      // A run that ends within the first poll (an identical respin) costs no describe, query or poller lookup.
      await pause();
      const description = ended ? undefined : await handle.describe();
      if (!description || description.status.name !== 'RUNNING') return await finishedStatus(handle, composeId, []);
      // A query needs a worker to answer it: without one it would hang, so look for pollers first (every 5th poll).
      if (poll % 5 === 0) worker = await hasWorker(handle, description.taskQueue);
      if (!worker && !warned) {
        warned = true;
        options.onNoWorker?.(description.taskQueue);
      }
      // Only a run with a blocked repository can be waiting for an override (it records that decision first): the
      // status query, a workflow task for the worker each time, is asked only then.
      const blocked = keywordListOf(description.searchAttributes, GATE_DECISION).includes('blocked');
      const status = worker && blocked ? await handle.query(statusQuery).catch(() => undefined) : undefined;
      if (status?.phase === 'awaiting-override') return status;
    }
  } finally {
    longPoll.abort();
  }
}

/** Whether any worker polled the task queue lately (Temporal keeps pollers for a few minutes). */
function hasWorker(handle: WorkflowHandle, taskQueue: string): Promise<boolean> {
  return workerPolls(handle.client, taskQueue);
}

/** Whether any worker polled `taskQueue` for workflow tasks lately; true when it cannot tell. */
export async function workerPolls(
  client: { workflowService: Client['workflowService']; options: { namespace: string } },
  taskQueue: string,
): Promise<boolean> {
  try {
    const { pollers } = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue },
      taskQueueType: 1,
    });
    return (pollers ?? []).length > 0;
  } catch {
    return true; // cannot tell: say nothing
  }
}

async function finishedStatus(
  handle: WorkflowHandle<typeof publishCompose>,
  composeId: string,
  recorded: PublishStatus['repositories'],
): Promise<PublishStatus> {
  try {
    return await handle.result();
  } catch (error) {
    const cause = rootCauseMessage(error);
    const repositories = recorded.length > 0 ? recorded : recordedDecisions((await handle.describe()).memo);
    return { composeId, manifestTags: [], phase: 'failed', repositories, rejectedOverrides: [], error: cause };
  }
}

/** The decisions a run recorded in its memo, as status entries. */
function recordedDecisions(memo: Record<string, unknown> | undefined): PublishStatus['repositories'] {
  return decisionsOfMemo(memo).map((record) => ({ ...record, pushed: [], manifests: [] }));
}

/**
 * "Workflow execution failed" → "Activity task failed" → the message that names the file and the fix: the first
 * failure in the chain that has a type (the run's own, which names each failed repository, or the activity's),
 * else the last cause.
 */
function rootCauseMessage(error: unknown): string {
  let deepest = error as Error;
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current instanceof ApplicationFailure) return current.message;
    deepest = current;
  }
  return deepest instanceof Error ? deepest.message : String(error);
}

/** Sends an override as an Update: a request the run rejects never reaches its history, and the caller learns why. */
export async function overrideRun(
  client: Client,
  composeId: string,
  request: OverrideRequest,
): Promise<OverrideRecord[]> {
  const handle = client.workflow.getHandle<typeof publishCompose>(publishWorkflowId(composeId));
  try {
    return await handle.executeUpdate(overrideUpdate, { args: [request] });
  } catch (error) {
    if (error instanceof WorkflowUpdateFailedError)
      throw new ClientError('bad-request', error.cause?.message ?? error.message);
    if (error instanceof WorkflowNotFoundError) {
      throw new ClientError(
        'bad-request',
        `no running run for compose ${composeId}: overrides apply only while a run waits for one (see \`compose-publisher list --decision blocked\`)`,
      );
    }
    throw error;
  }
}
