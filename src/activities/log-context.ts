import type { Context } from '@temporalio/activity';

/** The compose a log line is about, from the workflow id publish:<compose id>. */
export function logContext(context: Context): { composeId?: string } {
  const workflowId = context.info.workflowExecution?.workflowId ?? '';
  const match = /^publish:([^:]+)/.exec(workflowId);
  return match ? { composeId: match[1] } : {};
}
