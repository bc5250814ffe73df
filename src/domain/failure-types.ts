/**
 * Every failure type a run can end with, and whether a retry can fix it. The one table: the DomainError type, the
 * workflow's non-retryable list and the activities' ApplicationFailures all come from here.
 */
export const FAILURE_TYPES = {
  // The compose and its metadata: fixed by a new or repaired compose.
  MalformedComposeMetadata: 'final',
  InvalidComposeId: 'final',
  UnmappedArchitecture: 'final',
  UnsupportedImageLocation: 'final',
  DuplicateImage: 'final',
  ReleaseNotConfigured: 'final',
  ComposeNotFound: 'final',
  ComposeAccessDenied: 'final',
  ComposeIdMismatch: 'final',
  ImageNotFound: 'final',
  ChecksumMismatch: 'final',
  CorruptImage: 'final',
  UnsupportedImageArchive: 'final',
  // Who asked: input, overrides.
  InvalidInput: 'final',
  UntrustedInput: 'final',
  InvalidOverride: 'final',
  // The worker's own setup.
  MissingCredentials: 'final',
  NotificationsNotConfigured: 'final',
  /** A message body that breaks its own schema (src/domain/message-schemas.ts): a bug, never sent. */
  InvalidNotification: 'final',
  /**
   * The worker's own host, not the compose: its work dir is full (ENOSPC, EDQUOT), or it cannot write there (EACCES,
   * EPERM, EROFS) or open another file (EMFILE, ENFILE). Retried: the cache evicts what no run uses first, and an
   * operator can free space meanwhile (src/domain/worker-storage.ts).
   */
  WorkerStorageFull: 'retry',
  WorkerStorageError: 'retry',
  /** The worker could not start a tool (setpriv, tar, xz, skopeo, buildah): not installed, or its directory is gone. */
  WorkerToolMissing: 'retry',
  /**
   * [signing] private_key or its passphrase cannot be used any more on this worker (checked at start, so the file
   * changed since): retried, in case another worker has it.
   */
  SigningKeyUnusable: 'retry',
  // The run itself.
  /** An activity failed with no type of its own (its message says why). */
  ActivityFailed: 'final',
  /** One repository's publication failed; the others went on. */
  RepositoryFailed: 'final',
  /** The repository lock workflow could not be reached or started. */
  LockUnavailable: 'final',
  /** A bug in the workflow code: not a failure a retry or the input can fix. */
  WorkflowError: 'final',
  // Registries, through the tools.
  RegistryUnauthorized: 'final',
  NotFound: 'final',
  ConcurrentPublisher: 'final',
  /**
   * A signature in the registry does not verify against [signing] public_keys (none, or none by those keys), or a
   * published tag resolves to an image that has none: the registry serves something this run did not sign.
   */
  SignatureNotVerified: 'final',
  TransientRegistryError: 'retry',
  ComposeHostBusy: 'retry',
  PublishedIndexMismatch: 'retry',
  ToolFailed: 'retry',
} as const;

export type FailureType = keyof typeof FAILURE_TYPES;

export const NON_RETRYABLE_FAILURE_TYPES: readonly FailureType[] = (Object.keys(FAILURE_TYPES) as FailureType[]).filter(
  (type) => FAILURE_TYPES[type] === 'final',
);

export function isRetryable(type: FailureType): boolean {
  return FAILURE_TYPES[type] === 'retry';
}
