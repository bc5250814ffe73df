import type { Config } from '../../config.js';
import { connectClient } from '../../client/connection.js';
import { formatTable } from '../table.js';
import {
  COMPOSE_ID,
  composeIdOfWorkflowId,
  GATE_DECISION,
  keywordListOf,
  keywordOf,
  PUBLISH_WORKFLOW_TYPE,
  quoteQueryValue,
  RELEASE,
  runsOfType,
} from '../../domain/run-contract/index.js';

export interface ListOptions {
  decision?: string;
  release?: string;
  json?: boolean;
}

/**
 * The visibility query `list` sends: the same filter works in the Temporal UI's workflow list. Attribute names are
 * quoted with backticks: RELEASE is a reserved word of the query language.
 */
export function listQuery(options: ListOptions): string {
  const clauses = [runsOfType(PUBLISH_WORKFLOW_TYPE)];
  if (options.decision) clauses.push(`\`${GATE_DECISION.name}\` = ${quoteQueryValue(options.decision)}`);
  if (options.release) clauses.push(`\`${RELEASE.name}\` = ${quoteQueryValue(options.release)}`);
  return clauses.join(' AND ');
}

/** `compose-publisher list`: runs by decision and release, newest first, through the search attributes. */
export async function runListCommand(config: Config, options: ListOptions): Promise<number> {
  const client = await connectClient(config);
  try {
    const rows: Array<{ composeId: string; release: string; decisions: string[]; status: string; started: string }> =
      [];
    for await (const execution of client.workflow.list({ query: listQuery(options) })) {
      const attributes = execution.searchAttributes;
      rows.push({
        composeId:
          keywordOf(attributes, COMPOSE_ID) ?? composeIdOfWorkflowId(execution.workflowId) ?? execution.workflowId,
        release: keywordOf(attributes, RELEASE) ?? '',
        decisions: keywordListOf(attributes, GATE_DECISION),
        status: execution.status.name,
        started: execution.startTime.toISOString(),
      });
    }
    if (options.json) {
      console.log(JSON.stringify(rows, null, 2));
      return 0;
    }
    if (rows.length === 0) {
      console.log(`no runs match: ${listQuery(options)}`);
      return 0;
    }
    const table = [
      ['COMPOSE ID', 'RELEASE', 'DECISIONS', 'STATUS', 'STARTED'],
      ...rows.map((r) => [r.composeId, r.release, r.decisions.join(','), r.status, r.started]),
    ];
    for (const line of formatTable(table)) console.log(line);
    return 0;
  } finally {
    await client.connection.close();
  }
}
