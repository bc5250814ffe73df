import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client, type ScheduleOptionsStartWorkflowAction } from '@temporalio/client';
import type { Config } from '../config.js';
import type { StalenessReport } from '../domain/staleness.js';
import { reportStaleness, STALENESS_SCHEDULE_ID } from '../workflows/report-staleness.js';

/** The Schedule of this config's task queue: one per task queue, so deployments sharing a namespace keep theirs. */
export function stalenessScheduleId(config: Config): string {
  return `${STALENESS_SCHEDULE_ID}:${config.temporal.task_queue}`;
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
    workflowType: reportStaleness,
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
  await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP } }));
  return 'updated';
}

/** Runs a staleness report now, on this config's task queue, and returns it. */
export async function runStalenessReport(client: Client, config: Config, now = new Date()): Promise<StalenessReport> {
  return client.workflow.execute(reportStaleness, {
    taskQueue: config.temporal.task_queue,
    workflowId: `${stalenessScheduleId(config)}:now-${now.toISOString()}`,
    args: [],
    staticSummary: 'staleness report, run by compose-publisher report',
  });
}
