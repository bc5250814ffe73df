import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  metricMeter,
  patched,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { DomainError } from '../domain/errors.js';
import { overrideTargets, type OverrideRecord, type OverrideRequest } from '../domain/override.js';
import { checkRunRequest } from '../domain/run-input.js';
import { archTag } from '../domain/tags.js';
import type { PublishSettings } from '../domain/settings.js';
import type { PreparedImage, PublishPlan, RepositoryPlan } from '../domain/types.js';
import { cleanup, fetchCompose, prepareImage, workerSettings } from './activities.js';
import { limiter } from './limiter.js';
import { finishRepository, prepareAll, pushArchImages } from './legacy/publication.js';
import { overrideSignal, overrideUpdate, statusQuery } from './messages.js';
import {
  COMPOSE_ID,
  RELEASE,
  type PublishStatus,
  type RepositoryStatus,
  type RunRequest,
} from '../domain/run-contract/index.js';
import { repositoryLocks } from './repository-lock.js';
import { publishRepositories } from './repository-publication.js';
import { gate, inspect, recordDecisions, showDetails } from './decisions.js';
import { failureMessage, repositoryStatus, type Run } from './run.js';
import type { FailureType } from '../domain/failure-types.js';
import { preparedDigest, preparedPlatform, type RecordedPreparation } from '../domain/prepared-image.js';

/**
 * Runs started before this wrote arch tags before taking any lock, and ordered composes by date alone. Since: arch
 * tags and indexes are written under the repository lock (repository-lock.ts), each repository ends on its own,
 * composes of a higher release are newer, and a plain error in workflow code fails the run, not just its task.
 */
const REPOSITORY_LOCK_PATCH = 'repository-lock';

/** Runs started before this failed with an activity's failure ("Activity task failed") rather than its cause. */
const ROOT_CAUSE_FAILURE_PATCH = 'root-cause-failure';

/** Runs started before the trust boundary took their settings from their input. */
const WORKER_SETTINGS_PATCH = 'worker-settings';

/**
 * Runs started before this read the registries once every image was prepared. Since: while the images are prepared
 * (the first inspection needs no digest), so the uploads start as soon as the last image is ready.
 */
const INSPECT_WHILE_PREPARING_PATCH = 'inspect-while-preparing';

/** Publishes one compose: per-arch images everywhere, then the index of every repository the gate (or an operator) lets through. */
export async function publishCompose(input: RunRequest): Promise<PublishStatus> {
  // The input is checked below (runSettings); until then it may be anything, and the details must still render.
  const claimedId = String((input as Partial<RunRequest> | null | undefined)?.composeId);
  const status: PublishStatus = {
    composeId: claimedId,
    manifestTags: [],
    phase: 'fetching',
    repositories: [],
    rejectedOverrides: [],
  };
  setHandler(statusQuery, () => status);
  showDetails(status);
  setHandler(overrideUpdate, (request) => acceptOverride(status, request), {
    validator: (request) => rejectingWithoutStack(() => overrideTargets(request, status.repositories)),
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
      status.rejectedOverrides.push({
        request: shown.length > 300 ? `${shown.slice(0, 300)}…` : shown,
        reason: (error as Error).message,
        at: new Date().toISOString(),
      });
      upsertMemo({ rejectedOverrides: status.rejectedOverrides });
    } finally {
      showDetails(status);
    }
  });
  upsertSearchAttributes([{ key: COMPOSE_ID, value: claimedId.slice(0, 200) }]);
  try {
    const settings = await runSettings(input);
    status.signing = settings.signing ? 'on' : 'off';
    const plan = await fetchCompose({ location: input.location, settings });
    if (plan.composeId !== input.composeId) {
      throw ApplicationFailure.nonRetryable(
        `the compose at ${input.location} is ${plan.composeId}, but this run was started for ${input.composeId}`,
        'ComposeIdMismatch' satisfies FailureType,
      );
    }
    status.release = plan.release;
    status.manifestTags = plan.manifestTags;
    if (plan.locationUnchecked) status.locationUnchecked = true;
    upsertSearchAttributes([{ key: RELEASE, value: plan.release }]);

    status.phase = 'preparing-images';
    showDetails(status);
    const locked = patched(REPOSITORY_LOCK_PATCH);
    // Since the repository lock, the arch tags' digests too: an image its arch tags already hold needs no upload.
    const archTags = locked
      ? [
          ...new Set(
            plan.repositories.flatMap((repository) =>
              repository.images.map((image) => archTag(plan.release, image.composeArch)),
            ),
          ),
        ]
      : [];
    const early =
      locked && patched(INSPECT_WHILE_PREPARING_PATCH)
        ? inspect({ settings, plan }, plan.repositories, archTags)
        : undefined;
    // Awaited below: until then, a failure must not count as an unhandled rejection (which fails the task).
    early?.catch(() => undefined);
    const { digests, platforms, failures } = locked
      ? await prepareEach(plan, settings.maxParallelPushes)
      : {
          digests: await prepareAll(plan, settings.maxParallelPushes),
          platforms: new Map<string, PreparedImage['platform']>(),
          failures: new Map<string, unknown>(),
        };
    const run: Run = { input, settings, plan, digests, platforms, status, acrossReleases: locked };

    status.phase = 'inspecting';
    showDetails(status);
    const seen = await (early ?? inspect(run, plan.repositories, archTags));
    const published = seen.filter((manifest) => plan.manifestTags.includes(manifest.tag));
    status.repositories = plan.repositories.map((repository) => {
      const failure = failures.get(repository.repository);
      return failure === undefined ? gate(run, repository, published) : failedRepository(repository, failure);
    });
    recordDecisions(status);

    status.phase = 'pushing-images';
    if (locked) {
      await publishRepositories(
        run,
        repositoryLocks(),
        failures,
        seen.filter((manifest) => !plan.manifestTags.includes(manifest.tag)),
      );
    } else {
      await pushArchImages(run);
      status.phase = 'publishing-manifests';
      await Promise.all(plan.repositories.map((repository) => finishRepository(run, repository, published)));
      recordDecisions(status);
    }
    countDecisions(status);
    status.phase = 'done';
    showDetails(status);
    await condition(allHandlersFinished);
    return status;
  } catch (error) {
    status.phase = 'failed';
    status.error = failureMessage(error);
    showDetails(status);
    throw asRunFailure(error);
  } finally {
    await CancellationScope.nonCancellable(() => cleanup());
  }
}

/**
 * A plain error out of workflow code (a bug, not a retryable condition) would fail the workflow task again and
 * again; it fails the run instead, saying what happened. Runs started before REPOSITORY_LOCK_PATCH keep the old way.
 */
function asRunFailure(error: unknown): unknown {
  if (error instanceof ActivityFailure && !isCancellation(error) && patched(ROOT_CAUSE_FAILURE_PATCH)) {
    // The run's failure reads as its cause ("Fedora-40…/images.json: …"), not "Activity task failed".
    const cause = error.cause instanceof ApplicationFailure ? error.cause : undefined;
    return ApplicationFailure.create({
      message: failureMessage(error),
      type: cause?.type ?? ('ActivityFailed' satisfies FailureType),
      nonRetryable: true,
      ...(error.cause ? { cause: error.cause } : {}),
    });
  }
  if (
    !(error instanceof Error) ||
    error instanceof ApplicationFailure ||
    isCancellation(error) ||
    error.name.endsWith('Failure')
  )
    return error;
  if (!patched(REPOSITORY_LOCK_PATCH)) return error;
  return ApplicationFailure.nonRetryable(
    error.message,
    error instanceof DomainError ? error.type : ('WorkflowError' satisfies FailureType),
  );
}

/**
 * The settings a run publishes with: the worker's own, asked for by an activity (so the history records them).
 * The input may name only a compose; a run whose input names anything else, or a malformed compose, fails at once.
 */
async function runSettings(input: RunRequest): Promise<PublishSettings> {
  if (!patched(WORKER_SETTINGS_PATCH)) {
    if (!input.settings)
      throw ApplicationFailure.nonRetryable(
        'this run was started before runs took their settings from the worker, without settings',
        'InvalidInput' satisfies FailureType,
      );
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
  const decisions = metricMeter.createCounter(
    'compose_publisher_repository_decisions',
    'repositories',
    'Final decision of each repository of a run',
  );
  for (const repository of status.repositories) decisions.add(1, { decision: repository.decision });
}

/** Signals accepted before reason and operator had to be one bounded printable line keep being accepted on replay. */
const STRICT_OVERRIDE_TEXT_PATCH = 'strict-override-text';

/** One handler behind the signal and the update. Throws (rejects) when the request is not valid now. */
function acceptOverride(
  status: PublishStatus,
  request: OverrideRequest,
  options: { lenientText?: boolean } = {},
): OverrideRecord[] {
  const at = new Date().toISOString();
  const records = overrideTargets(request, status.repositories, options).map((repository) => {
    const record: OverrideRecord = {
      repository,
      mode: request.mode,
      reason: request.reason.trim(),
      operator: request.operator.trim(),
      at,
    };
    repositoryStatus(status, repository).override = record;
    return record;
  });
  showDetails(status);
  return records;
}

/** Prepares every image; a repository with an image that cannot be prepared fails alone (its first error is kept). */
async function prepareEach(
  plan: PublishPlan,
  parallel: number,
): Promise<{
  digests: Map<string, string>;
  platforms: Map<string, PreparedImage['platform']>;
  failures: Map<string, unknown>;
}> {
  const digests = new Map<string, string>();
  const platforms = new Map<string, PreparedImage['platform']>();
  const failures = new Map<string, unknown>();
  const limit = limiter(parallel);
  await Promise.all(
    plan.repositories.flatMap((repository) =>
      repository.images.map((image) =>
        limit(async () => {
          if (failures.has(repository.repository)) return;
          try {
            const prepared: RecordedPreparation = await prepareImage(image);
            digests.set(image.sha256, preparedDigest(prepared));
            const platform = preparedPlatform(prepared);
            if (platform) platforms.set(preparedDigest(prepared), platform);
          } catch (error) {
            if (isCancellation(error)) throw error;
            if (!failures.has(repository.repository)) failures.set(repository.repository, error);
          }
        }),
      ),
    ),
  );
  return { digests, platforms, failures };
}

function failedRepository(repository: RepositoryPlan, error: unknown): RepositoryStatus {
  const built = repository.images.map((image) => image.ociArch);
  return {
    repository: repository.repository,
    decision: 'failed',
    built,
    published: [],
    missing: [],
    pushed: [],
    manifests: [],
    error: failureMessage(error),
    ...(repository.skipped ? { skipped: repository.skipped } : {}),
  };
}

/**
 * Runs an update's validator; a rejection reaches the caller (the CLI, the UI's Send an Update) as its message and
 * type only: the stack of this code, with the worker's paths, says nothing to an operator.
 */
function rejectingWithoutStack(validate: () => unknown): void {
  try {
    validate();
  } catch (error) {
    const failure = ApplicationFailure.nonRetryable(
      (error as Error).message,
      error instanceof DomainError ? error.type : ('InvalidOverride' satisfies FailureType),
    );
    failure.stack = '';
    throw failure;
  }
}
