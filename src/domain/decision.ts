import type { OverrideRecord } from './override.js';
import type { RepositoryDecision } from './types.js';

/** A repository's decision with what an operator decided about it. */
export interface DecidedRepository extends RepositoryDecision {
  override?: OverrideRecord;
  /** Arches a publish-available override left out of the index. */
  dropped?: RepositoryDecision['missing'];
}

/**
 * The one place a repository's decision changes: from the current decision, the gate's verdict on a fresh
 * inspection and the operator's override. A newer compose published meanwhile wins over everything; a final
 * decision (superseded, skipped) stays; an override stands over the gate's pass/blocked/noop.
 */
export function nextDecision(current: DecidedRepository, fresh: RepositoryDecision): DecidedRepository {
  if (current.decision === 'superseded' || current.decision === 'skipped') return current;
  const inputs = {
    repository: current.repository,
    built: fresh.built,
    published: fresh.published,
    missing: fresh.missing,
    ...(current.override ? { override: current.override } : {}),
  };
  if (fresh.decision === 'superseded')
    return {
      ...inputs,
      decision: 'superseded',
      ...(fresh.newerComposeId ? { newerComposeId: fresh.newerComposeId } : {}),
    };
  const { override } = current;
  if (!override) return { ...inputs, decision: fresh.decision };
  if (override.mode === 'skip') return { ...inputs, decision: 'skipped' };
  return {
    ...inputs,
    decision: 'overridden',
    ...(override.mode === 'publish-available' ? { dropped: fresh.missing } : {}),
  };
}
