import type { Config } from '../../config.js';
import { connectClient } from '../../client/connection.js';
import { workerPolls } from '../../client/publish-runs.js';
import { runStalenessReport } from '../../client/staleness.js';
import { fixCommand } from '../../domain/staleness-details.js';
import type { StalenessReport } from '../../domain/staleness.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatTable } from '../table.js';

/** `compose-publisher report`: runs the staleness report now and prints it, stale rows first, each with its fix. */
export async function runReportCommand(config: Config, options: { json?: boolean }): Promise<number> {
  const client = await connectClient(config);
  try {
    if (!(await workerPolls(client, config.temporal.task_queue))) {
      throw new CliError(`no worker polls task queue ${config.temporal.task_queue}, and the report runs on one (it reads the registries with the worker's credentials): start one with \`compose-publisher worker\``, EXIT.failed);
    }
    const report = await runStalenessReport(client, config);
    console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report).join('\n'));
    return EXIT.done;
  } finally {
    await client.connection.close();
  }
}

export function formatReport(report: StalenessReport): string[] {
  const stale = report.rows.filter((row) => row.stale);
  const lines = [`staleness of ${report.rows.length} index arches at ${report.at}: ${stale.length} stale (warn after ${report.warnAfter})`];
  if (report.rows.length === 0) return [...lines, 'nothing published yet by this task queue'];
  const table = [
    ['REPOSITORY', 'TAG', 'ARCH', 'REGISTRY', 'INDEX SERVES', 'NEWEST', 'BEHIND', 'ARCH TAG MOVED ON'],
    ...report.rows.map((row) => [
      row.repository,
      row.tag,
      row.arch,
      row.registry,
      row.servedComposeId ?? '?',
      row.newestComposeId ?? '?',
      row.stale ? `${row.composesBehind} compose${row.composesBehind === 1 ? '' : 's'}, ${row.lagDays} d${row.overThreshold ? ' (over warn_after)' : ''}` : '-',
      row.archTagMovedOn ? 'yes' : 'no',
    ]),
  ];
  lines.push('', ...formatTable(table));
  const fixes = [...new Set(stale.map((row) => fixCommand(row, report.waiting) ?? `${row.repository}: publish a compose that builds ${row.arch} (no run is waiting for an override)`))];
  if (fixes.length > 0) lines.push('', 'to fix:', ...fixes.map((fix) => `  ${fix}`));
  return lines;
}
