export type DomainErrorType =
  | 'MalformedComposeMetadata'
  | 'UnmappedArchitecture'
  | 'InvalidComposeId'
  | 'UnsupportedImageLocation'
  | 'ReleaseNotConfigured'
  | 'DuplicateImage'
  | 'InvalidOverride'
  | 'InvalidInput';

/** Every DomainError type: none of them is fixed by a retry. */
export const DOMAIN_ERROR_TYPES: readonly DomainErrorType[] = [
  'MalformedComposeMetadata',
  'UnmappedArchitecture',
  'InvalidComposeId',
  'UnsupportedImageLocation',
  'ReleaseNotConfigured',
  'DuplicateImage',
  'InvalidOverride',
  'InvalidInput',
];

/**
 * A problem with the compose or the configuration that a person must fix; retrying cannot help.
 * `type` becomes the (non-retryable) Temporal ApplicationFailure type. The message names the input,
 * the field and the fix.
 */
export class DomainError extends Error {
  override readonly name = 'DomainError';

  constructor(
    readonly type: DomainErrorType,
    message: string,
  ) {
    super(message);
  }
}

/** `<file>: <field> <problem>. Fix: <fix>` — the shape of every metadata error. */
export function malformedMetadata(file: string, field: string, problem: string, fix: string = METADATA_FIX): DomainError {
  return new DomainError('MalformedComposeMetadata', `${file}: ${field} ${problem}. Fix: ${fix}`);
}

export const METADATA_FIX =
  'this file is written by pungi (productmd); make sure the compose finished and its metadata is complete and unmodified, or regenerate it';
