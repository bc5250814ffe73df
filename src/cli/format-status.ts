import { formatTable } from './table.js';
import { OVERRIDE_MODES } from '../domain/override.js';
import { LOCATION_UNCHECKED_NOTE, NO_IMAGE, OVERRIDE_MODE_EFFECTS, overrideCommand } from '../domain/run-details.js';
import { publishes, type PublishStatus } from '../domain/run-contract/index.js';
import type { RunStatus } from '../client/publish-runs.js';

const DECISION_MEANING: Record<string, string> = {
  pass: 'index published with every arch',
  noop: 'already published as built; nothing to change',
  blocked: 'index NOT replaced: it would drop an arch users pull today',
  superseded: 'a newer compose is already published; nothing written',
  overridden: 'published by an operator override',
  skipped: 'left as it was by an operator',
  failed: 'NOT published: this repository failed (see below)',
};

/** A readable report of a run: one line of context, then a table of repositories. */
export function formatStatus(status: RunStatus): string {
  const header = [
    `compose ${status.composeId}`,
    `phase ${status.phase}`,
    status.release ? `release ${status.release}` : undefined,
    status.manifestTags.length ? `tags ${status.manifestTags.join(', ')}` : undefined,
  ].filter(Boolean);
  const rows = [
    ['REPOSITORY', 'DECISION', 'BUILT', 'PUBLISHED BEFORE', 'MISSING', 'MEANING'],
    ...status.repositories.map((r) => [
      r.repository,
      r.decision,
      list(r.built),
      list(r.published),
      list(r.missing),
      meaning(r, status),
    ]),
  ];
  const lines = [
    header.join('  ·  '),
    ...(status.locationUnchecked ? [`warning: ${LOCATION_UNCHECKED_NOTE}`] : []),
    ...formatTable(rows),
  ];
  const notes = status.repositories.flatMap((r) => {
    if (r.override) {
      const dropped = r.dropped?.length ? `, dropped ${r.dropped.join(' ')}` : '';
      return [
        `  ${r.repository}: ${r.override.mode} by ${r.override.operator} at ${r.override.at}${dropped}: ${r.override.reason}`,
      ];
    }
    if (r.awaitingOverrideUntil) {
      return [
        `  ${r.repository}: awaiting an override until ${r.awaitingOverrideUntil}; to decide, run one of:`,
        ...OVERRIDE_MODES.map(
          (mode) => `    ${overrideCommand(status.composeId, r.repository, mode)}   # ${OVERRIDE_MODE_EFFECTS[mode]}`,
        ),
      ];
    }
    if (r.waitEnded)
      return [`  ${r.repository}: no override came before the wait ended; the published index was left as it was`];
    return [];
  });
  if (notes.length) lines.push('', 'operators:', ...notes);
  const failed = status.repositories.flatMap((r) => (r.error ? [`  ${r.repository}: ${r.error}`] : []));
  if (failed.length) lines.push('', 'failed:', ...failed);
  const kept = status.repositories.flatMap((r) =>
    (r.archTagsKept ?? []).map((k) => `  ${k.registry}/${r.repository}:${k.tag} keeps ${k.composeId} (newer)`),
  );
  if (kept.length) lines.push('', 'arch tags left on a newer compose:', ...kept);
  const skipped = status.repositories.flatMap((r) => (r.skipped ?? []).map((why) => `  ${r.repository}: ${why}`));
  if (skipped.length) lines.push('', 'not published from this compose:', ...skipped);
  const rejected = status.rejectedOverrides.map((r) => `  ${r.at}: ${r.reason}`);
  if (rejected.length) lines.push('', 'rejected override signals:', ...rejected);
  const manifests = status.repositories.flatMap((r) =>
    r.manifests.map((m) => `  ${m.registry}/${r.repository}:${m.tag} → ${m.digest}`),
  );
  if (manifests.length) lines.push('', 'published indexes:', ...manifests);
  const signatures = status.repositories.flatMap((r) =>
    (r.signatures ?? []).map(
      (s) =>
        `  ${s.registry}/${r.repository}@${s.digest}${s.tags.length ? ` (${s.tags.join(', ')})` : ''}: ${s.signed ? 'signed' : 'already signed'}, verified with ${s.keys.join(', ')}`,
    ),
  );
  if (signatures.length) lines.push('', 'signed and verified (cosign):', ...signatures);
  else if (status.signing === 'off')
    lines.push('', 'signatures: none (the worker has no [signing]: nothing is signed)');
  // What a running run is retrying, and why (a full work dir, a registry that is down): it waits, it has not failed.
  const retrying = (status.retrying ?? []).map(
    (r) =>
      `  ${r.activity} (attempt ${r.attempt}${r.nextAttemptAt ? `, next at ${r.nextAttemptAt}` : ''}): ${r.type ? `${r.type}: ` : ''}${r.failure}`,
  );
  if (retrying.length) lines.push('', 'retrying (the run waits and tries again):', ...retrying);
  if (status.error) lines.push('', `error: ${status.error}`);
  return lines.join('\n');
}

/** What a decision means now: a pass is "published" only once its indexes are written. */
function meaning(repository: PublishStatus['repositories'][number], status: PublishStatus): string {
  if (publishes(repository) && repository.manifests.length === 0) {
    return status.phase === 'failed'
      ? 'NOT published: the run failed (see error)'
      : status.phase === 'done'
        ? 'nothing written'
        : 'to be published; the run is still working';
  }
  // noop with nothing built: the compose has no image for this repository (nothing to publish, nothing published).
  if (repository.decision === 'noop' && repository.built.length === 0) return NO_IMAGE;
  return DECISION_MEANING[repository.decision] ?? '';
}

function list(values: string[]): string {
  return values.length ? values.join(' ') : '-';
}
