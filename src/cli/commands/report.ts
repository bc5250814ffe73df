import type { Config } from '../../config.js';
import { connectClient } from '../../client/connection.js';
import { workerPolls } from '../../client/publish-runs.js';
import { ensureSearchAttributes } from '../../client/search-attributes.js';
import { runStalenessReport } from '../../client/staleness.js';
import { fixCommand } from '../../domain/staleness-details.js';
import type { StalenessReport } from '../../domain/staleness.js';
import { CliError, EXIT } from '../exit-codes.js';
import { formatTable } from '../table.js';

export interface ReportOptions {
  json?: boolean;
  /** Give up after this long (ms), saying what the run is stuck on. Default 60 s. */
  deadlineMs?: number;
  /** Progress lines on stderr this often (ms). Default 10 s. */
  progressMs?: number;
}

/**
 * `compose-publisher report`: runs the staleness report now and prints it, stale rows first, each with its fix.
 * Never waits in silence: progress on stderr, and at the deadline what the run waits for, with exit code 1.
 */
export async function runReportCommand(config: Config, options: ReportOptions): Promise<number> {
  const client = await connectClient(config);
  try {
    await ensureSearchAttributes(client.connection, config.temporal.namespace, {
      create: config.temporal.create_search_attributes,
      what: 'report starts no run that could not finish (its workflow task would fail at every retry)',
      log: (_level, message) => console.error(`compose-publisher: ${message}`),
    });
    if (!(await workerPolls(client, config.temporal.task_queue))) {
      throw new CliError(
        `no worker polls task queue ${config.temporal.task_queue}, and the report runs on one (it reads the registries with the worker's credentials): start one with \`compose-publisher worker\``,
        EXIT.failed,
      );
    }
    const report = await runStalenessReport(client, config, {
      deadlineMs: options.deadlineMs ?? 60_000,
      progressMs: options.progressMs ?? 10_000,
      onProgress: (line) => console.error(line),
    });
    console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report).join('\n'));
    return EXIT.done;
  } finally {
    await client.connection.close();
  }
}

export function formatReport(report: StalenessReport): string[] {
  const stale = report.rows.filter((row) => row.stale);
  const lines = [
    `staleness of ${report.rows.length} index arches at ${report.at}: ${stale.length} stale (warn after ${report.warnAfter})`,
  ];
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
      row.stale
        ? `${row.composesBehind} compose${row.composesBehind === 1 ? '' : 's'}, ${row.lagDays} d${row.overThreshold ? ' (over warn_after)' : ''}`
        : '-',
      row.archTagMovedOn ? 'yes' : 'no',
    ]),
  ];
  lines.push('', ...formatTable(table));
  const fixes = [
    ...new Set(
      stale.map(
        (row) =>
          fixCommand(row, report.waiting) ??
          `${row.repository}: publish a compose that builds ${row.arch} (no run is waiting for an override)`,
      ),
    ),
  ];
  if (fixes.length > 0) lines.push('', 'to fix:', ...fixes.map((fix) => `  ${fix}`));
  return lines;
}
