import { tryParseComposeId } from './compose-id.js';
import type { OverrideMode, OverrideRecord } from './override.js';
import type { GateDecisionKind } from './types.js';
import { markdownCode, markdownTable, markdownText } from './markdown.js';
import { shellQuote } from './shell-quote.js';

/** What the details need of a run's status (src/workflows/messages.ts PublishStatus has it all). */
export interface RunDetailsInput {
  composeId: string;
  release?: string;
  manifestTags: string[];
  phase: string;
  repositories: ReadonlyArray<{
    repository: string;
    decision: GateDecisionKind;
    built: string[];
    published: string[];
    missing: string[];
    override?: OverrideRecord;
    dropped?: string[];
    awaitingOverrideUntil?: string;
    waitEnded?: boolean;
    newerComposeId?: string;
    error?: string;
  }>;
  rejectedOverrides: ReadonlyArray<{ request: unknown; reason: string; at: string }>;
  locationUnchecked?: true;
  error?: string;
}

/** Said in the run's details and `status` when the worker read the compose without a [compose] allowed_locations. */
export const LOCATION_UNCHECKED_NOTE =
  "This worker has no [compose] allowed_locations, so it read this compose from wherever the run said, unchecked. Set [compose] allowed_locations in the worker's config.";

/** The CLI command that overrides `repository` of the run of `composeId` (hybrid: nobody loses an arch). */
export function overrideCommand(composeId: string, repository: string, mode: OverrideMode = 'hybrid'): string {
  return `compose-publisher override ${shellQuote(composeId)} --repository ${shellQuote(repository)} --mode ${mode} --reason ${shellQuote('…')}`;
}

/** What each override mode does to the index, said next to its command. */
export const OVERRIDE_MODE_EFFECTS: Record<OverrideMode, string> = {
  hybrid: 'publish the new arches, keep the old image of each missing arch',
  'publish-available': 'publish only the arches built, dropping the missing ones',
  skip: 'leave the index as it is',
};

/** One line for the list of runs: release, compose, repositories (the run's static summary). */
export function runSummary(composeId: string, repositories: readonly string[]): string {
  const release = tryParseComposeId(composeId)?.release;
  return `${release ? `${release}: ` : ''}publish ${composeId} → ${[...repositories].sort().join(', ')}`;
}

/** Where a run publishes, as the run's static details (set once, when it starts). */
export function runStaticDetails(run: {
  composeId: string;
  location: string;
  registries: readonly string[];
  repositories: readonly string[];
}): string {
  return [
    `Publishes compose **${markdownText(run.composeId)}** from ${markdownCode(run.location)}`,
    markdownTable(
      ['repositories', 'registries'],
      [[markdownText([...run.repositories].sort().join(', ')), markdownText(run.registries.join(', '))]],
    ),
    "**Current Details** show each repository's decision and, for a blocked one, how to override it.",
  ].join('\n\n');
}

/**
 * The run's current details in the Temporal UI, as markdown: what is blocked and how to decide, a table of every
 * repository's decision, and the override signals that were rejected, with why. Every value is escaped.
 */
export function renderRunDetails(status: RunDetailsInput): string {
  const text = (value: string) => markdownText(value);
  const arches = (values: readonly string[] | undefined) => (values?.length ? text(values.join(' ')) : '–');
  const tag = status.manifestTags[0];
  const head = [
    `**${text(status.composeId)}** · phase **${text(status.phase)}**`,
    status.release ? `release ${text(status.release)}` : undefined,
    status.manifestTags.length ? `tags ${text(status.manifestTags.join(', '))}` : undefined,
  ]
    .filter(Boolean)
    .join(' · ');
  const parts = [head];
  if (status.locationUnchecked) parts.push(`**Warning**: ${text(LOCATION_UNCHECKED_NOTE)}`);

  const waiting = status.repositories.filter((r) => r.awaitingOverrideUntil !== undefined);
  for (const r of waiting) {
    parts.push(
      `**${text(r.repository)}${tag ? text(`:${tag}`) : ''} blocked**: ${arches(r.missing)} missing from this compose; the published index keeps serving ` +
        `${r.missing.length === 1 ? 'it' : 'them'}. Waiting for an operator until ${text(r.awaitingOverrideUntil!)}. To publish anyway: ` +
        `${markdownCode(overrideCommand(status.composeId, r.repository))}, or **Send an Update** \`override\` with ` +
        `${markdownCode(JSON.stringify({ repository: r.repository, mode: 'hybrid', reason: '…', operator: '…' }))} (modes: hybrid, publish-available, skip).`,
    );
  }

  // A list, not a table: the Temporal UI renders markdown tables without cell padding, running the columns together.
  parts.push(
    status.repositories
      .map((r) =>
        [
          `- **${text(r.repository)}**`,
          `**${text(r.decision)}**`,
          `built ${arches(r.built)}`,
          `published before ${arches(r.published)}`,
          `missing ${arches(r.missing)}`,
          nextStep(r),
        ].join(' · '),
      )
      .join('\n'),
  );

  if (status.rejectedOverrides.length > 0) {
    parts.push(
      `**Rejected override signals** (${status.rejectedOverrides.length}): a signal gets no answer, so its rejection is kept here and in the memo \`rejectedOverrides\`. Prefer **Send an Update**, which answers at once.`,
      status.rejectedOverrides
        .map(
          (r) =>
            `- ${text(r.at)}: ${text(r.reason)}. Request: ${text(typeof r.request === 'string' ? r.request : JSON.stringify(r.request ?? null))}`,
        )
        .join('\n'),
    );
  }
  if (status.error) parts.push(`**The run failed**: ${text(status.error)}`);
  return parts.join('\n\n');
}

/** What a repository's noop means when the compose built nothing for it (the gate's noop: nothing built, nothing published). */
export const NO_IMAGE = 'no image in this compose';

function nextStep(r: RunDetailsInput['repositories'][number]): string {
  if (r.override) {
    const dropped = r.dropped?.length ? ` (dropped ${markdownText(r.dropped.join(' '))})` : '';
    return `${markdownText(r.override.mode)} by ${markdownText(r.override.operator)}${dropped}: ${markdownText(r.override.reason)}`;
  }
  if (r.awaitingOverrideUntil !== undefined) return 'awaiting an override (see above)';
  if (r.waitEnded) return 'no override came before the wait ended; the index was left as it was';
  if (r.decision === 'superseded' && r.newerComposeId)
    return `newer compose ${markdownText(r.newerComposeId)} is published`;
  if (r.error) return markdownText(r.error);
  if (r.decision === 'noop' && r.built.length === 0) return NO_IMAGE;
  return '–';
}
