// What a publish run takes, what it reports (the status query, its result) and its phases: the shapes the
// workflow, the CLI and the tests all read. Plain data only: everything here crosses Temporal's payload boundary.
import type { PublishSettings } from '../settings.js';
import type { OverrideRecord } from '../override.js';
import type { OciArch, RepositoryDecision } from '../types.js';

/**
 * What starts a run, and all whoever starts it may choose: a compose. The worker's own config says where and what
 * to publish; an input with any other field is refused (checkRunRequest, src/domain/run-input.ts).
 */
export interface RunRequest {
  /** The compose: http(s) URL or absolute local path of the directory that holds metadata/ (or its parent). */
  location: string;
  composeId: string;
  /** Only in runs started before runs took their settings from the worker (their histories still replay). */
  settings?: PublishSettings;
}

export type PublishPhase =
  | 'fetching'
  | 'preparing-images'
  | 'inspecting'
  | 'pushing-images'
  | 'publishing-manifests'
  /** Nothing more happens until an operator overrides a blocked repository, or the wait ends. */
  | 'awaiting-override'
  | 'done'
  | 'failed';

export interface RepositoryStatus extends RepositoryDecision {
  /** Arch images of this compose whose arch tag (e.g. 40-aarch64) this run wrote, on at least one registry. */
  pushed: Array<{ ociArch: OciArch; digest: string }>;
  /** Arch tags this run left alone because they hold an image of a newer compose. */
  archTagsKept?: Array<{ registry: string; tag: string; composeId: string }>;
  /** Why this repository failed (decision failed): the root cause, naming what to fix. */
  error?: string;
  /** Indexes this run published. */
  manifests: Array<{ registry: string; tag: string; digest: string }>;
  /** Blocked and waiting for an operator until this time (ISO 8601). */
  awaitingOverrideUntil?: string;
  /** The wait for an override ran out: the decision is final. */
  waitEnded?: boolean;
  override?: OverrideRecord;
  /** Arches a publish-available override left out of the index. */
  dropped?: OciArch[];
  /** Entries of this repository's subvariant the compose has but this run does not publish, and why. */
  skipped?: string[];
  /** What this run signed and verified ([signing]): each digest on each registry, arch images then indexes. */
  signatures?: DigestSignature[];
}

/** One digest signed (or found signed) by the worker's key and verified from the registry with cosign. */
export interface DigestSignature {
  registry: string;
  digest: string;
  /** The tags verified to resolve to this digest. */
  tags: string[];
  /** false: a signature by the worker's key was there already (an identical respin adds none). */
  signed: boolean;
  /** The [signing] public key files it verified with. */
  keys: string[];
}

export interface RejectedOverride {
  request: unknown;
  reason: string;
  at: string;
}

export interface PublishStatus {
  composeId: string;
  release?: string;
  manifestTags: string[];
  phase: PublishPhase;
  repositories: RepositoryStatus[];
  /** Overrides sent as signals that could not be applied, with why. (Rejected updates never reach the run.) */
  rejectedOverrides: RejectedOverride[];
  /** Decision messages the broker did not take before the retries ran out. */
  undeliveredNotifications?: Array<{ repository: string; topic: string; error: string }>;
  /** The worker has no [compose] allowed_locations: it read this compose without checking where it comes from. */
  locationUnchecked?: true;
  /** Whether the worker signs what it publishes ([signing]); absent in runs started before signing existed. */
  signing?: 'on' | 'off';
  error?: string;
}

/** Whether a decision publishes an index: pass, or an operator's (or the wait-end policy's) override. */
export function publishes(repository: Pick<RepositoryStatus, 'decision'>): boolean {
  return repository.decision === 'pass' || repository.decision === 'overridden';
}
