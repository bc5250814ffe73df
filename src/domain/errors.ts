import type { FailureType } from './failure-types.js';

/**
 * A failure of a type in FAILURE_TYPES, typically one a person must fix (a retry cannot help, the table says so).
 * `type` becomes the Temporal ApplicationFailure type. The message names the input, the field and the fix.
 * Thrown by src/domain and src/compose, which know nothing of Temporal.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly type: FailureType,
    message: string,
  ) {
    super(message);
  }
}

/** `<file>: <field> <problem>. Fix: <fix>` — the shape of every metadata error. */
export function malformedMetadata(
  file: string,
  field: string,
  problem: string,
  fix: string = METADATA_FIX,
): DomainError {
  return new DomainError('MalformedComposeMetadata', `${file}: ${field} ${problem}. Fix: ${fix}`);
}

export const METADATA_FIX =
  'this file is written by pungi (productmd); make sure the compose finished and its metadata is complete and unmodified, or regenerate it';

/** A server asked to be asked again later (429 or 503 with Retry-After): retried after that delay, not the fixed back-off. */
export class RetryLaterError extends DomainError {
  constructor(
    message: string,
    readonly delayMs: number,
  ) {
    super('ComposeHostBusy', message);
  }
}
