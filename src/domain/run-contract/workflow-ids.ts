// How runs are named in Temporal: the workflow types a worker registers (the names of the exported workflow
// functions, checked by test/unit/run-contract.test.ts), their ids, and the visibility queries that find them.

export const PUBLISH_WORKFLOW_TYPE = 'publishCompose';
export const REPORT_WORKFLOW_TYPE = 'reportStaleness';

/** The Schedule that `compose-publisher schedule` creates (one per task queue), and the prefix of its runs' ids. */
export const STALENESS_SCHEDULE_ID = 'staleness-report';

const PUBLISH_ID_PREFIX = 'publish:';

/** One run per compose: a second start for the same compose finds the first. */
export function publishWorkflowId(composeId: string): string {
  return `${PUBLISH_ID_PREFIX}${composeId}`;
}

/** The compose id a publish run's workflow id names, or undefined for any other workflow. */
export function composeIdOfWorkflowId(workflowId: string): string | undefined {
  if (!workflowId.startsWith(PUBLISH_ID_PREFIX)) return undefined;
  return workflowId.slice(PUBLISH_ID_PREFIX.length).split(':')[0] || undefined;
}

/** The schedule of one task queue. */
export function stalenessScheduleId(taskQueue: string): string {
  return `${STALENESS_SCHEDULE_ID}:${taskQueue}`;
}

/** A value inside a visibility query's single quotes. */
export function quoteQueryValue(value: string): string {
  return `'${value.replace(/['\\]/g, '\\$&')}'`;
}

/** Visibility query clause: runs of one workflow type, optionally on one task queue. */
export function runsOfType(workflowType: string, taskQueue?: string): string {
  const type = `WorkflowType = ${quoteQueryValue(workflowType)}`;
  return taskQueue === undefined ? type : `${type} AND TaskQueue = ${quoteQueryValue(taskQueue)}`;
}
