import { markdownCode, markdownTable, markdownText } from './markdown.js';
import { overrideCommand } from './run-details.js';
import type { StalenessRow, WaitingRun } from './staleness.js';

type WaitingOverride = Pick<WaitingRun, 'composeId' | 'repositories'>;

/** The command that ends the lag of `row`: the override of the run still waiting for one, if there is one. */
export function fixCommand(row: StalenessRow, waiting: readonly WaitingOverride[]): string | undefined {
  const run = waiting.find((w) => w.repositories.includes(row.repository));
  if (!run) return undefined;
  return overrideCommand(run.composeId, row.repository);
}

/** The report as the Temporal UI shows a run's details: stale rows only, with the fix for each. */
export function renderStalenessDetails(rows: StalenessRow[], waiting: readonly WaitingOverride[], at: string): string {
  const stale = rows.filter((row) => row.stale);
  if (stale.length === 0) return `**No stale arches** (${rows.length} arches of indexes read at ${markdownText(at)}).`;
  return [
    `**${stale.length} stale arches** of ${rows.length} (read at ${markdownText(at)})`,
    '',
    markdownTable(
      ['repository', 'tag', 'arch', 'registry', 'index serves', 'newest', 'behind', 'arch tag moved on', 'fix'],
      stale.map((row) => [
        markdownText(row.repository),
        markdownText(row.tag),
        markdownText(row.arch),
        markdownText(row.registry),
        markdownText(row.servedComposeId ?? '?'),
        markdownText(row.newestComposeId ?? '?'),
        `${row.composesBehind} (${row.lagDays} d)`,
        row.archTagMovedOn ? 'yes' : 'no',
        (() => {
          const fix = fixCommand(row, waiting);
          return fix ? markdownCode(fix) : 'publish a compose that builds it';
        })(),
      ]),
    ),
  ].join('\n');
}
