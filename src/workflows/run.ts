import {
  ApplicationFailure,
  condition,
  setCurrentDetails,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
  isCancellation,
} from '@temporalio/workflow';
import { durationMs } from '../domain/duration.js';
import { decideGate } from '../domain/gate.js';
import { indexInstances } from '../domain/index-instances.js';
import { composeArchOf } from '../domain/arches.js';
import { notificationFor, seedAnnouncementFor } from '../domain/notification.js';
import { policyOverride } from '../domain/override.js';
import { renderRunDetails } from '../domain/run-details.js';
import type { PublishSettings } from '../domain/settings.js';
import type { OciArch, PublishedManifest, PublishPlan, RepositoryPlan } from '../domain/types.js';
import { inspectPublished, notify, pushManifest } from './activities.js';
import {
  decisionRecords,
  decisionsMemo,
  GATE_DECISION,
  publishes,
  type PublishStatus,
  type RepositoryStatus,
  type RunRequest,
} from '../domain/run-contract/index.js';
import type { FailureType } from '../domain/failure-types.js';

/** How often a tag that changed under us is re-inspected before the run gives up. */
export const MAX_REGATES = 3;

/** Everything one run knows, shared by the steps below. */
export interface Run {
  input: RunRequest;
  /** The worker's settings (or, in runs started before WORKER_SETTINGS_PATCH, those of the input). */
  settings: PublishSettings;
  plan: PublishPlan;
  /** image sha256 → the manifest digest it has in a registry */
  digests: Map<string, string>;
  status: PublishStatus;
  /** Order composes of different releases by release first (runs started before that ordered by date alone). */
  acrossReleases: boolean;
  /** The decisions as last recorded in the memo (recordDecisionChanges). */
  recorded?: string;
}

/** What every registry holds at the manifest tags of `repositories` (and the digest at each of `archTags`). */
export function inspect(
  run: Run,
  repositories: RepositoryPlan[],
  archTags: string[] = [],
): Promise<PublishedManifest[]> {
  return inspectPublished({
    registries: run.settings.registries,
    repositories: repositories.map((repository) => repository.repository),
    tags: run.plan.manifestTags,
    ...(archTags.length > 0 ? { digestOnlyTags: archTags } : {}),
  });
}

export function gate(run: Run, repository: RepositoryPlan, published: PublishedManifest[]): RepositoryStatus {
  const built = Object.fromEntries(repository.images.map((image) => [image.ociArch, run.digests.get(image.sha256)]));
  const decision = decideGate({
    repository: repository.repository,
    composeId: run.input.composeId,
    built,
    published: published.filter((manifest) => manifest.repository === repository.repository),
    acrossReleases: run.acrossReleases,
  });
  return { ...decision, pushed: [], manifests: [], ...(repository.skipped ? { skipped: repository.skipped } : {}) };
}

/** The decision and its inputs go into history (memo) and the visibility store (search attributes). */
export function recordDecisions(status: PublishStatus): void {
  const decisions = decisionRecords(status);
  upsertMemo(decisionsMemo(decisions));
  upsertSearchAttributes([{ key: GATE_DECISION, value: [...new Set(decisions.map((d) => d.decision))].sort() }]);
  showDetails(status);
}

/** The run's current details in the Temporal UI (no command: read through the metadata query, free on replay). */
export function showDetails(status: PublishStatus): void {
  setCurrentDetails(renderRunDetails(status));
}

/** recordDecisions, only when a decision or its inputs changed since the run last recorded them. */
export function recordDecisionChanges(run: Run): void {
  const snapshot = JSON.stringify(decisionRecords(run.status));
  showDetails(run.status);
  if (snapshot === run.recorded) return;
  run.recorded = snapshot;
  recordDecisions(run.status);
}

/**
 * Tells subscribers about a repository's decision. A broker that stays down past the retry budget does not fail
 * the run: the undelivered notification is kept in the result instead. Callers await it only when the run has
 * settings.notifications: even an await that schedules nothing reorders the commands of concurrent branches, and
 * runs started before notifications existed must replay unchanged.
 */
export async function announce(
  run: Run,
  current: RepositoryStatus,
  settings: NonNullable<PublishSettings['notifications']>,
): Promise<void> {
  const hybrid = current.decision === 'overridden' && current.override?.mode === 'hybrid';
  const architectures = publishes(current)
    ? hybrid
      ? [...current.built, ...current.missing].sort()
      : current.built
    : current.published;
  const index = {
    composeId: run.input.composeId,
    release: run.plan.release,
    repository: current.repository,
    decision: current.decision,
    registries: run.settings.registries.map((registry) => registry.url),
    tags: run.plan.manifestTags,
  };
  const notification = notificationFor(settings.topicPrefix, {
    ...index,
    architectures,
    missing: current.missing,
    ...(current.dropped ? { dropped: current.dropped } : {}),
    ...(current.override ? { override: current.override } : {}),
    ...(current.newerComposeId ? { newerComposeId: current.newerComposeId } : {}),
  });
  if (!notification) return;
  // Sent by the same activity as the decision message: no new command, so runs recorded before it replay unchanged.
  const seed = settings.seedAnnouncements
    ? seedAnnouncementFor(settings.topicPrefix, {
        ...index,
        architectures: architectures.map((arch) => composeArchOf(arch, run.settings.architectures)),
      })
    : undefined;
  try {
    await notify({ exchange: settings.exchange, notification, messageId: uuid4(), ...(seed ? { seed } : {}) });
  } catch (error) {
    if (isCancellation(error)) throw error;
    (run.status.undeliveredNotifications ??= []).push({
      repository: current.repository,
      topic: notification.topic,
      error: failureMessage(error),
    });
  }
}

/** Waits on a durable timer for an override; false when the wait runs out (the repository stays blocked). */
export async function awaitOverride(run: Run, current: RepositoryStatus): Promise<boolean> {
  const wait = durationMs(run.settings.waitForOverride);
  current.awaitingOverrideUntil = new Date(new Date().getTime() + wait).toISOString();
  updateWaitingPhase(run.status);
  const overridden = await condition(() => current.override !== undefined, wait);
  delete current.awaitingOverrideUntil;
  if (!overridden && run.settings.hybridOnWaitEnd?.includes(current.repository)) {
    current.override = policyOverride(current.repository, new Date().toISOString());
  } else if (!overridden) {
    current.waitEnded = true;
  }
  updateWaitingPhase(run.status);
  return current.override !== undefined;
}

export function updateWaitingPhase(status: PublishStatus): void {
  const waiting = status.repositories.some((r) => r.awaitingOverrideUntil !== undefined);
  const busy = status.repositories.some(
    (r) => r.awaitingOverrideUntil === undefined && publishes(r) && r.manifests.length === 0,
  );
  status.phase = waiting && !busy ? 'awaiting-override' : 'publishing-manifests';
  showDetails(status);
}

/**
 * Compare-before-write: writes the index on every registry unless a tag moved since `inspected`; then it
 * re-inspects, lets `redecide` decide again on what it found, and tries again while the decision still publishes.
 */
export async function writeIndexComparing(
  run: Run,
  repository: RepositoryPlan,
  current: RepositoryStatus,
  inspected: PublishedManifest[],
  images: ReadonlyArray<{ ociArch: OciArch; digest: string }>,
  redecide: (seen: PublishedManifest[]) => void,
): Promise<void> {
  let seen = inspected;
  for (let attempt = 0; publishes(current); attempt++) {
    if ((await pushToEveryRegistry(run, current, seen, images)) === 'pushed') {
      updateWaitingPhase(run.status);
      return;
    }
    if (attempt === MAX_REGATES) {
      throw ApplicationFailure.nonRetryable(
        `${repository.repository}: the published index kept changing while this run tried to replace it (${MAX_REGATES + 1} tries); another publisher is writing the same tags`,
        'ConcurrentPublisher' satisfies FailureType,
      );
    }
    seen = await inspect(run, [repository]);
    redecide(seen);
  }
}

/** Writes the index on every registry, in order, comparing each before writing; 'changed' when a tag moved since `seen`. */
export async function pushToEveryRegistry(
  run: Run,
  current: RepositoryStatus,
  seen: PublishedManifest[],
  images: ReadonlyArray<{ ociArch: OciArch; digest: string }>,
): Promise<'pushed' | 'changed'> {
  current.manifests = [];
  for (const registry of run.settings.registries) {
    const onRegistry = seen.filter((manifest) => manifest.registry === registry.url);
    const instances = indexInstances({
      composeId: run.input.composeId,
      pushed: images,
      carryMissing: current.decision === 'overridden' && current.override?.mode === 'hybrid',
      missing: current.missing,
      published: onRegistry,
    });
    const expected = Object.fromEntries(onRegistry.map((manifest) => [manifest.tag, manifest.digest]));
    const result = await pushManifest({
      repository: current.repository,
      registry,
      tags: run.plan.manifestTags,
      instances,
      expected,
    });
    if (result.outcome === 'changed') return 'changed';
    for (const [tag, digest] of Object.entries(result.digests))
      current.manifests.push({ registry: registry.url, tag, digest });
  }
  return 'pushed';
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
