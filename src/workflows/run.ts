import type { PublishSettings } from '../domain/settings.js';
import type { PreparedImage, PublishPlan } from '../domain/types.js';
import type { PublishStatus, RepositoryStatus, RunRequest } from '../domain/run-contract/index.js';

/** Everything one run knows, shared by the steps below. */
export interface Run {
  input: RunRequest;
  /** The worker's settings (or, in runs started before WORKER_SETTINGS_PATCH, those of the input). */
  settings: PublishSettings;
  plan: PublishPlan;
  /** image sha256 → the manifest digest it has in a registry */
  digests: Map<string, string>;
  /** manifest digest → its platform, as prepareImage read it from the image config (runs recorded before: none) */
  platforms?: Map<string, PreparedImage['platform']>;
  status: PublishStatus;
  /** Order composes of different releases by release first (runs started before that ordered by date alone). */
  acrossReleases: boolean;
  /** The decisions as last recorded in the memo (recordDecisionChanges). */
  recorded?: string;
}

/** An activity failure's own message says only "Activity task failed"; people need the cause. */
export function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

export function repositoryStatus(status: PublishStatus, repository: string): RepositoryStatus {
  const found = status.repositories.find((r) => r.repository === repository);
  if (!found) throw new Error(`no status for repository ${repository}`);
  return found;
}
