import {
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  metricMeter,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  uuid4,
} from '@temporalio/workflow';
import type { PublishActivities } from '../activities/index.js';
import { durationMs } from '../domain/duration.js';
import { DomainError } from '../domain/errors.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../domain/failure-types.js';
import { decideGate } from '../domain/gate.js';
import { indexInstances } from '../domain/index-instances.js';
import { notificationFor } from '../domain/notification.js';
import { overrideTargets, type OverrideRecord, type OverrideRequest } from '../domain/override.js';
import { checkRunRequest } from '../domain/run-input.js';
import type { PublishSettings } from '../domain/settings.js';
import type { PublishedManifest, PublishPlan, RepositoryPlan } from '../domain/types.js';
import { forEachBounded } from './for-each-bounded.js';
import { withIndexLock } from './index-lock.js';
import {
  COMPOSE_ID,
  GATE_DECISION,
  overrideSignal,
  overrideUpdate,
  RELEASE,
  statusQuery,
  type PublishComposeInput,
  type PublishComposeResult,
  type PublishStatus,
  type RepositoryStatus,
} from './messages.js';

const NON_RETRYABLE = [...NON_RETRYABLE_FAILURE_TYPES];

const { workerSettings, fetchCompose, inspectPublished } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Long activities heartbeat every 5 s (src/activities/heartbeat.ts), so a worker that dies is noticed this soon
 * and its activity retried on another worker: a crash costs seconds, not minutes.
 */
const HEARTBEAT_TIMEOUT = '20 seconds';

const { prepareImage, pushArchImage } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

const { pushManifest } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

const { notify } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE },
});

const { cleanup } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3 },
});

/** How often a tag that changed under us is re-inspected before the run gives up. */
const MAX_REGATES = 3;

/** Runs started before blocked repositories waited for an override ended them at once. */
const WAIT_FOR_OVERRIDE_PATCH = 'wait-for-override';

/** Runs started before the trust boundary took their settings from their input. */
const WORKER_SETTINGS_PATCH = 'worker-settings';

/** Everything one run knows, shared by the steps below. */
interface Run {
  input: PublishComposeInput;
  /** The worker's settings (or, in runs started before WORKER_SETTINGS_PATCH, those of the input). */
  settings: PublishSettings;
  plan: PublishPlan;
  /** image sha256 → the manifest digest it has in a registry */
  digests: Map<string, string>;
  status: PublishStatus;
}

/** Publishes one compose: per-arch images everywhere, then the index of every repository the gate (or an operator) lets through. */
export async function publishCompose(input: PublishComposeInput): Promise<PublishComposeResult> {
  const status: PublishStatus = { composeId: input.composeId, manifestTags: [], phase: 'fetching', repositories: [], rejectedOverrides: [] };
  setHandler(statusQuery, () => status);
  setHandler(overrideUpdate, (request) => acceptOverride(status, request), {
    validator: (request) => void overrideTargets(request, status.repositories),
  });
  setHandler(overrideSignal, (request) => {
    const strict = patched(STRICT_OVERRIDE_TEXT_PATCH);
    try {
      acceptOverride(status, request, { lenientText: !strict });
    } catch (error) {
      if (!strict) {
        status.rejectedOverrides.push({ request, reason: (error as Error).message, at: new Date().toISOString() });
        return;
      }
      // Kept short and in the memo too: the audit trail of who tried what, without whatever the signal carried.
      const shown = JSON.stringify(request ?? null);
      status.rejectedOverrides.push({ request: shown.length > 300 ? `${shown.slice(0, 300)}…` : shown, reason: (error as Error).message, at: new Date().toISOString() });
      upsertMemo({ rejectedOverrides: status.rejectedOverrides });
    }
  });
  upsertSearchAttributes([{ key: COMPOSE_ID, value: String(input.composeId).slice(0, 200) }]);
  try {
    const settings = await runSettings(input);
    const plan = await fetchCompose({ location: input.location, settings });
    if (plan.composeId !== input.composeId) {
      throw ApplicationFailure.nonRetryable(
        `the compose at ${input.location} is ${plan.composeId}, but this run was started for ${input.composeId}`,
        'ComposeIdMismatch',
      );
    }
    status.release = plan.release;
    status.manifestTags = plan.manifestTags;
    upsertSearchAttributes([{ key: RELEASE, value: plan.release }]);

    status.phase = 'preparing-images';
    const run: Run = { input, settings, plan, digests: await prepareAll(plan, settings.maxParallelPushes), status };

    status.phase = 'inspecting';
    const published = await inspect(run, plan.repositories);
    status.repositories = plan.repositories.map((repository) => gate(run, repository, published));
    recordDecisions(status);

    status.phase = 'pushing-images';
    await pushArchImages(run);

    status.phase = 'publishing-manifests';
    await Promise.all(plan.repositories.map((repository) => finishRepository(run, repository, published)));
    recordDecisions(status);
    countDecisions(status);
    status.phase = 'done';
    await condition(allHandlersFinished);
    return status;
  } catch (error) {
    status.phase = 'failed';
    status.error = failureMessage(error);
    throw error;
  } finally {
    await CancellationScope.nonCancellable(() => cleanup());
  }
}

/**
 * The settings a run publishes with: the worker's own, asked for by an activity (so the history records them).
 * The input may name only a compose; a run whose input names anything else, or a malformed compose, fails at once.
 */
async function runSettings(input: PublishComposeInput): Promise<PublishSettings> {
  if (!patched(WORKER_SETTINGS_PATCH)) {
    if (!input.settings) throw ApplicationFailure.nonRetryable('this run was started before runs took their settings from the worker, without settings', 'InvalidInput');
    return input.settings;
  }
  try {
    checkRunRequest(input, new Date().getTime());
  } catch (error) {
    if (error instanceof DomainError) throw ApplicationFailure.nonRetryable(error.message, error.type);
    throw error;
  }
  return workerSettings();
}

/** Runs by decision, for dashboards: one count per repository and final decision (metrics emit nothing on replay). */
function countDecisions(status: PublishStatus): void {
  const decisions = metricMeter.createCounter('compose_publisher_repository_decisions', 'repositories', 'Final decision of each repository of a run');
  for (const repository of status.repositories) decisions.add(1, { decision: repository.decision });
}

/** Signals accepted before reason and operator had to be one bounded printable line keep being accepted on replay. */
const STRICT_OVERRIDE_TEXT_PATCH = 'strict-override-text';

/** One handler behind the signal and the update. Throws (rejects) when the request is not valid now. */
function acceptOverride(status: PublishStatus, request: OverrideRequest, options: { lenientText?: boolean } = {}): OverrideRecord[] {
  const at = new Date().toISOString();
  return overrideTargets(request, status.repositories, options).map((repository) => {
    const record: OverrideRecord = { repository, mode: request.mode, reason: request.reason.trim(), operator: request.operator.trim(), at };
    repositoryStatus(status, repository).override = record;
    return record;
  });
}

async function prepareAll(plan: PublishPlan, parallel: number): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const images = plan.repositories.flatMap((repository) => repository.images);
  await forEachBounded(images, parallel, async (image) => {
    digests.set(image.sha256, await prepareImage(image));
  });
  return digests;
}

function inspect(run: Run, repositories: RepositoryPlan[]): Promise<PublishedManifest[]> {
  return inspectPublished({
    registries: run.settings.registries,
    repositories: repositories.map((repository) => repository.repository),
    tags: run.plan.manifestTags,
  });
}

function gate(run: Run, repository: RepositoryPlan, published: PublishedManifest[]): RepositoryStatus {
  const built = Object.fromEntries(repository.images.map((image) => [image.ociArch, run.digests.get(image.sha256)]));
  const decision = decideGate({
    repository: repository.repository,
    composeId: run.input.composeId,
    built,
    published: published.filter((manifest) => manifest.repository === repository.repository),
  });
  return { ...decision, pushed: [], manifests: [], ...(repository.skipped ? { skipped: repository.skipped } : {}) };
}

/** Decides again on a fresh inspection. An operator's override stands unless a newer compose got published meanwhile. */
function regate(run: Run, repository: RepositoryPlan, current: RepositoryStatus, seen: PublishedManifest[]): void {
  const fresh = gate(run, repository, seen);
  const { override } = current;
  const decision = !override || fresh.decision === 'superseded' ? fresh.decision : override.mode === 'skip' ? 'skipped' : 'overridden';
  Object.assign(current, {
    decision,
    built: fresh.built,
    published: fresh.published,
    missing: fresh.missing,
    ...(fresh.newerComposeId ? { newerComposeId: fresh.newerComposeId } : {}),
    ...(override?.mode === 'publish-available' && decision === 'overridden' ? { dropped: fresh.missing } : {}),
  });
}

/** The decision and its inputs go into history (memo) and the visibility store (search attributes). */
function recordDecisions(status: PublishStatus): void {
  const decisions = status.repositories.map(({ repository, decision, built, published, missing, override, dropped, skipped }) => ({
    repository,
    decision,
    built,
    published,
    missing,
    ...(override ? { override } : {}),
    ...(dropped ? { dropped } : {}),
    ...(skipped ? { skipped } : {}),
  }));
  upsertMemo({ gate: decisions });
  upsertSearchAttributes([{ key: GATE_DECISION, value: [...new Set(decisions.map((d) => d.decision))].sort() }]);
}

async function pushArchImages(run: Run): Promise<void> {
  // A superseded repository pushes nothing: its arch tags would overwrite a newer compose's.
  const jobs = run.plan.repositories
    .filter((repository) => repositoryStatus(run.status, repository.repository).decision !== 'superseded')
    .flatMap((repository) => repository.images.map((image) => ({ repository, image })));
  await forEachBounded(jobs, run.settings.maxParallelPushes, async ({ repository, image }) => {
    const pushed = await pushArchImage({ repository: repository.repository, release: run.plan.release, image, registries: run.settings.registries });
    repositoryStatus(run.status, repository.repository).pushed.push({ ociArch: pushed.ociArch, digest: pushed.digest });
  });
}

/** After the arch images: publish the index, or, for a blocked repository, wait for an operator first. */
async function finishRepository(run: Run, repository: RepositoryPlan, inspected: PublishedManifest[]): Promise<void> {
  const current = repositoryStatus(run.status, repository.repository);
  let seen = inspected.filter((manifest) => manifest.repository === repository.repository);
  if (current.decision === 'blocked') {
    if (!patched(WAIT_FOR_OVERRIDE_PATCH)) return;
    if (run.settings.notifications) await announce(run, current, run.settings.notifications);
    if (!(await awaitOverride(run, current))) return;
    // The wait may have been long: decide on what the registries hold now, not on what they held then.
    seen = await inspect(run, [repository]);
    regate(run, repository, current, seen);
    recordDecisions(run.status);
  }
  await publishIndex(run, repository, current, seen);
  if (run.settings.notifications) await announce(run, current, run.settings.notifications);
}

/**
 * Tells subscribers about a repository's decision. A broker that stays down past the retry budget does not fail
 * the run: the undelivered notification is kept in the result instead. Callers await it only when the run has
 * settings.notifications: even an await that schedules nothing reorders the commands of concurrent branches, and
 * runs started before notifications existed must replay unchanged.
 */
async function announce(run: Run, current: RepositoryStatus, settings: NonNullable<PublishSettings['notifications']>): Promise<void> {
  const hybrid = current.decision === 'overridden' && current.override?.mode === 'hybrid';
  const notification = notificationFor(settings.topicPrefix, {
    composeId: run.input.composeId,
    release: run.plan.release,
    repository: current.repository,
    decision: current.decision,
    registries: run.settings.registries.map((registry) => registry.url),
    tags: run.plan.manifestTags,
    architectures: publishes(current) ? (hybrid ? [...current.built, ...current.missing].sort() : current.built) : current.published,
    missing: current.missing,
    ...(current.dropped ? { dropped: current.dropped } : {}),
    ...(current.override ? { override: current.override } : {}),
    ...(current.newerComposeId ? { newerComposeId: current.newerComposeId } : {}),
  });
  if (!notification) return;
  try {
    await notify({ exchange: settings.exchange, notification, messageId: uuid4() });
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
async function awaitOverride(run: Run, current: RepositoryStatus): Promise<boolean> {
  const wait = durationMs(run.settings.waitForOverride);
  current.awaitingOverrideUntil = new Date(new Date().getTime() + wait).toISOString();
  updateWaitingPhase(run.status);
  const overridden = await condition(() => current.override !== undefined, wait);
  delete current.awaitingOverrideUntil;
  if (!overridden) current.waitEnded = true;
  updateWaitingPhase(run.status);
  return overridden;
}

function updateWaitingPhase(status: PublishStatus): void {
  const waiting = status.repositories.some((r) => r.awaitingOverrideUntil !== undefined);
  const busy = status.repositories.some((r) => r.awaitingOverrideUntil === undefined && publishes(r) && r.manifests.length === 0);
  status.phase = waiting && !busy ? 'awaiting-override' : 'publishing-manifests';
}

function publishes(repository: RepositoryStatus): boolean {
  return repository.decision === 'pass' || repository.decision === 'overridden';
}

/** Runs started before index writes were serialized per repository wrote without the lock. */
const INDEX_LOCK_PATCH = 'index-lock';

/** Publishes one repository's index on every registry, one run at a time per repository, comparing before writing. */
async function publishIndex(run: Run, repository: RepositoryPlan, current: RepositoryStatus, inspected: PublishedManifest[]): Promise<void> {
  if (!publishes(current)) return;
  if (!patched(INDEX_LOCK_PATCH)) return writeIndex(run, repository, current, inspected);
  const registries = run.settings.registries.map((registry) => registry.url).sort();
  await withIndexLock(`${registries.join(',')}/${repository.repository}`, async () => {
    // Whatever another run wrote while we waited for the lock is in a fresh inspection.
    const seen = await inspect(run, [repository]);
    regate(run, repository, current, seen);
    return writeIndex(run, repository, current, seen);
  });
  recordDecisions(run.status);
}

/** Compare-before-write: a tag that moved since `inspected` is re-inspected and re-gated instead of overwritten. */
async function writeIndex(run: Run, repository: RepositoryPlan, current: RepositoryStatus, inspected: PublishedManifest[]): Promise<void> {
  let seen = inspected;
  for (let attempt = 0; publishes(current); attempt++) {
    if ((await pushToEveryRegistry(run, current, seen)) === 'pushed') {
      updateWaitingPhase(run.status);
      return;
    }
    if (attempt === MAX_REGATES) {
      throw ApplicationFailure.nonRetryable(
        `${repository.repository}: the published index kept changing while this run tried to replace it (${MAX_REGATES + 1} tries); another publisher is writing the same tags`,
        'ConcurrentPublisher',
      );
    }
    seen = await inspect(run, [repository]);
    regate(run, repository, current, seen);
    recordDecisions(run.status);
  }
}

async function pushToEveryRegistry(run: Run, current: RepositoryStatus, seen: PublishedManifest[]): Promise<'pushed' | 'changed'> {
  current.manifests = [];
  for (const registry of run.settings.registries) {
    const onRegistry = seen.filter((manifest) => manifest.registry === registry.url);
    const instances = indexInstances({
      composeId: run.input.composeId,
      pushed: current.pushed,
      carryMissing: current.decision === 'overridden' && current.override?.mode === 'hybrid',
      missing: current.missing,
      published: onRegistry,
    });
    const expected = Object.fromEntries(onRegistry.map((manifest) => [manifest.tag, manifest.digest]));
    const result = await pushManifest({ repository: current.repository, registry, tags: run.plan.manifestTags, instances, expected });
    if (result.outcome === 'changed') return 'changed';
    for (const [tag, digest] of Object.entries(result.digests)) current.manifests.push({ registry: registry.url, tag, digest });
  }
  return 'pushed';
}

/** An activity failure's own message says only "Activity task failed"; people need the cause. */
function failureMessage(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? error.cause.message : error.message;
}

function repositoryStatus(status: PublishStatus, repository: string): RepositoryStatus {
  const found = status.repositories.find((r) => r.repository === repository);
  if (!found) throw new Error(`no status for repository ${repository}`);
  return found;
}
