import type { Context } from '@temporalio/activity';
import { composeIdOfWorkflowId } from '../domain/run-contract/index.js';

/** The compose a log line is about, from the workflow id publish:<compose id>. */
export function logContext(context: Context): { composeId?: string } {
  const workflowId = context.info.workflowExecution?.workflowId ?? '';
  const composeId = composeIdOfWorkflowId(workflowId);
  return composeId ? { composeId } : {};
}
