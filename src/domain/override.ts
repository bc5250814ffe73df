import { DomainError } from './errors.js';
import { hasControlCharacter } from './printable.js';
import type { GateDecisionKind } from './types.js';

export const OVERRIDE_MODES = ['hybrid', 'publish-available', 'skip'] as const;
export type OverrideMode = (typeof OVERRIDE_MODES)[number];

/** What an operator sends, from the Temporal UI (signal) or the CLI (update). */
export interface OverrideRequest {
  /** Omitted: every repository that is blocked. */
  repository?: string;
  mode: OverrideMode;
  reason: string;
  operator: string;
}

/** An accepted override, as recorded on the repository it applies to. */
export interface OverrideRecord {
  repository: string;
  mode: OverrideMode;
  reason: string;
  operator: string;
  /** Workflow time when the override was accepted, ISO 8601. */
  at: string;
}

export interface OverridableRepository {
  repository: string;
  decision: GateDecisionKind;
  override?: OverrideRecord;
  /** True once the wait for an override ran out: the decision is final. */
  waitEnded?: boolean;
}

export const MAX_REASON_LENGTH = 500;
export const MAX_OPERATOR_LENGTH = 64;

/**
 * The repositories an override applies to, or a DomainError('InvalidOverride') saying what is wrong and how to fix it.
 * Pure: the update validator calls it, so a rejected override never reaches history. Reason and operator are one
 * printable line each, bounded (they go into the audit trail, logs and notifications); `lenientText` keeps the
 * rules of runs that accepted overrides before this was checked.
 */
export function overrideTargets(
  request: unknown,
  repositories: readonly OverridableRepository[],
  options: { lenientText?: boolean } = {},
): string[] {
  const { repository, mode, reason, operator } = (request ?? {}) as Partial<Record<keyof OverrideRequest, unknown>>;
  if (typeof mode !== 'string' || !(OVERRIDE_MODES as readonly string[]).includes(mode)) {
    throw invalid(
      `mode ${typeof mode === 'string' ? JSON.stringify(mode.slice(0, 40)) : String(mode)} is not one of ${OVERRIDE_MODES.join(', ')}`,
    );
  }
  if (typeof reason !== 'string' || reason.trim() === '')
    throw invalid('reason is empty: say why, it is recorded with the decision');
  if (typeof operator !== 'string' || operator.trim() === '') throw invalid('operator is empty: say who decides');
  if (!options.lenientText) {
    checkLine('reason', reason, MAX_REASON_LENGTH);
    checkLine('operator', operator, MAX_OPERATOR_LENGTH);
  }
  const open = repositories.filter((r) => r.decision === 'blocked' && !r.override && !r.waitEnded);
  if (repository === undefined || repository === null || repository === '') {
    if (open.length === 0)
      throw invalid(`no repository is blocked and awaiting an override (${describe(repositories)})`);
    return open.map((r) => r.repository);
  }
  if (typeof repository !== 'string') throw invalid('repository must be a repository name');
  const target = repositories.find((r) => r.repository === repository);
  if (!target)
    throw invalid(
      `repository ${JSON.stringify(repository.slice(0, 100))} is not part of this run (${describe(repositories)})`,
    );
  if (target.override)
    throw invalid(
      `repository "${repository}" was already overridden (${target.override.mode} by ${target.override.operator})`,
    );
  if (target.decision !== 'blocked')
    throw invalid(`repository "${repository}" is ${target.decision}, not blocked: there is nothing to override`);
  if (target.waitEnded)
    throw invalid(`the wait for an override of "${repository}" has ended; publish the compose again to decide anew`);
  return [repository];
}

function checkLine(field: string, value: string, maxLength: number): void {
  if (hasControlCharacter(value))
    throw invalid(`${field} holds a newline, tab or other control character: give one line of plain text`);
  if (value.trim().length > maxLength)
    throw invalid(`${field} is ${value.trim().length} characters long; at most ${maxLength}`);
}

function invalid(message: string): DomainError {
  return new DomainError('InvalidOverride', `override rejected: ${message}`);
}

function describe(repositories: readonly OverridableRepository[]): string {
  return repositories.length
    ? repositories.map((r) => `${r.repository}: ${r.decision}`).join(', ')
    : 'no repositories decided yet';
}

/** Who decides when [gate] when_wait_ends decides: recorded like an operator's override, with the rule as reason. */
export const POLICY_OPERATOR = 'policy';

/** The override a repository gets when its wait ends and its policy is hybrid. */
export function policyOverride(repository: string, at: string): OverrideRecord {
  return {
    repository,
    mode: 'hybrid',
    reason: 'no override before the wait ended; [gate] when_wait_ends = "hybrid"',
    operator: POLICY_OPERATOR,
    at,
  };
}
