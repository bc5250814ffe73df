import { setTimeout as sleep } from 'node:timers/promises';
import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsStartWorkflowAction,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Config } from '../config.js';
import type { StalenessReport } from '../domain/staleness.js';
import { ClientError } from './client-error.js';
import type { reportStaleness } from '../workflows/report-staleness.js';
import { REPORT_WORKFLOW_TYPE, stalenessScheduleId as scheduleIdOf } from '../domain/run-contract/index.js';

/** The Schedule of this config's task queue: one per task queue, so deployments sharing a namespace keep theirs. */
export function stalenessScheduleId(config: Config): string {
  return scheduleIdOf(config.temporal.task_queue);
}

/**
 * Creates the Schedule that runs reportStaleness every [staleness] every, or brings an existing one to this config
 * (interval, task queue). Safe to run again: the second time it updates what it created.
 */
export async function ensureStalenessSchedule(client: Client, config: Config): Promise<'created' | 'updated'> {
  const scheduleId = stalenessScheduleId(config);
  const spec = { intervals: [{ every: config.staleness.every }] };
  const action: ScheduleOptionsStartWorkflowAction<typeof reportStaleness> = {
    type: 'startWorkflow',
    workflowType: REPORT_WORKFLOW_TYPE,
    workflowId: scheduleId,
    taskQueue: config.temporal.task_queue,
    args: [],
    staticSummary: `staleness report of ${config.registries.map((r) => r.url).join(', ')}`,
  };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await client.schedule.getHandle(scheduleId).update((previous) => ({
    ...previous,
    spec,
    action,
    policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP },
  }));
  return 'updated';
}

export interface ReportWaitOptions {
  now?: Date;
  /** Give up after this long (ms) with a ClientError (kind stuck) that says what the run waits for. Default: no limit. */
  deadlineMs?: number;
  /** Every progressMs while the run goes on: a line that says how long it has run and what it waits for. */
  onProgress?: (line: string) => void;
  progressMs?: number;
}

/**
 * Runs a staleness report now, on this config's task queue, and returns it. With a deadline, a run that has not
 * ended by then is described: a run whose workflow task keeps failing (e.g. BadSearchAttributes) is terminated,
 * since it cannot move and nobody else waits for it, and the error names the failure; a run that is merely slow
 * is left to finish (its report lands in its memo), and the error says what it was doing.
 */
export async function runStalenessReport(
  client: Client,
  config: Config,
  options: ReportWaitOptions = {},
): Promise<StalenessReport> {
  const now = options.now ?? new Date();
  const handle = await client.workflow.start<typeof reportStaleness>(REPORT_WORKFLOW_TYPE, {
    taskQueue: config.temporal.task_queue,
    workflowId: `${stalenessScheduleId(config)}:now-${now.toISOString()}`,
    args: [],
    staticSummary: 'staleness report, run by compose-publisher report',
  });
  if (options.deadlineMs === undefined && !options.onProgress) return handle.result();
  const started = Date.now();
  const deadline = started + (options.deadlineMs ?? Number.POSITIVE_INFINITY);
  // Aborted on return: a long poll or a timer left pending would keep the process alive (see waitForRun).
  const stop = new AbortController();
  const result = client
    .withAbortSignal(stop.signal, () => handle.result())
    .then(
      (report) => ({ report }),
      (error: unknown) => ({ error }),
    );
  try {
    for (;;) {
      const wait = Math.max(0, Math.min(options.progressMs ?? 10_000, deadline - Date.now()));
      const settled = await Promise.race([
        result,
        sleep(wait, undefined, { signal: stop.signal }).then(() => undefined),
      ]);
      if (settled) {
        if ('report' in settled) return settled.report;
        throw settled.error;
      }
      const seconds = Math.round((Date.now() - started) / 1000);
      const state = await whatTheRunWaitsFor(handle);
      if (state.ended) continue; // its result is on the way
      if (Date.now() >= deadline) {
        if (state.taskFailure) {
          await handle
            .terminate(`compose-publisher report gave up after ${seconds} s: ${state.taskFailure}`)
            .catch(() => undefined);
          throw new ClientError(
            'stuck',
            `the staleness report ${handle.workflowId} made no progress in ${seconds} s: its workflow task keeps failing (attempt ${state.attempts}): ${state.taskFailure}. The run is terminated; fix that and run report again.`,
          );
        }
        throw new ClientError(
          'stuck',
          `the staleness report ${handle.workflowId} did not end in ${seconds} s: ${state.summary}. It goes on running (Temporal UI, or \`temporal workflow describe --workflow-id ${handle.workflowId}\`); its report lands in its memo.`,
        );
      }
      options.onProgress?.(`report: ${seconds} s, ${state.summary}`);
    }
  } finally {
    stop.abort();
  }
}

interface RunState {
  ended: boolean;
  summary: string;
  /** The last recorded failure of the run's workflow task while it is retried: what the run is stuck on. */
  taskFailure?: string;
  attempts?: number;
}

/** What a running report waits for: its pending workflow task (and its last failure) or its pending activities. */
async function whatTheRunWaitsFor(handle: WorkflowHandle): Promise<RunState> {
  const description = await handle.describe();
  if (description.status.name !== 'RUNNING') return { ended: true, summary: description.status.name.toLowerCase() };
  const task = description.raw.pendingWorkflowTask;
  const attempts = task?.attempt ?? 0;
  if (task && attempts > 1) {
    const failure = await lastWorkflowTaskFailure(handle);
    if (failure)
      return {
        ended: false,
        summary: `its workflow task keeps failing (attempt ${attempts}): ${failure}`,
        taskFailure: failure,
        attempts,
      };
  }
  const activities = (description.raw.pendingActivities ?? []).map((activity) => {
    const last = activity.lastFailure?.message;
    return `activity ${activity.activityType?.name ?? '?'} (attempt ${activity.attempt ?? 1}${last ? `, last failure: ${last}` : ''})`;
  });
  if (activities.length > 0) return { ended: false, summary: `waiting for ${activities.join(', ')}` };
  return { ended: false, summary: task ? 'waiting for a worker to run its workflow task' : 'running' };
}

/** The failure of the last WorkflowTaskFailed event in the run's history, e.g. "BadSearchAttributes: …". */
async function lastWorkflowTaskFailure(handle: WorkflowHandle): Promise<string | undefined> {
  const history = await handle.fetchHistory();
  const failed = (history.events ?? [])
    .filter((event) => event.workflowTaskFailedEventAttributes)
    .at(-1)?.workflowTaskFailedEventAttributes;
  if (!failed) return undefined;
  return failed.failure?.message || `cause ${String(failed.cause)}`;
}
