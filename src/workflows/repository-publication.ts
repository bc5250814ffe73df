import { ApplicationFailure, isCancellation, patched } from '@temporalio/workflow';
import { planArchTags, type ArchImage } from '../domain/arch-tags.js';
import { nextDecision } from '../domain/decision.js';
import { archTag } from '../domain/tags.js';
import type { PublishedTag, RepositoryPlan } from '../domain/types.js';
import { tagArchImages, uploadArchImage } from './activities.js';
import { limiter } from './limiter.js';
import { settleAll } from './settle-all.js';
import { publishes, type RepositoryStatus } from '../domain/run-contract/index.js';
import type { RepositoryLocks } from './repository-lock.js';
import { repositoryLockKey } from '../domain/lock-keys.js';
import { announce } from './announce.js';
import { gate, inspect, recordDecisionChanges } from './decisions.js';
import { writeIndexComparing } from './index-write.js';
import { awaitOverride } from './override-wait.js';
import { failureMessage, repositoryStatus, type Run } from './run.js';
import type { FailureType } from '../domain/failure-types.js';

/**
 * Publishes every repository, each to its own end: one repository's failure becomes its decision (`failed`, with
 * the cause) and the others finish; the run then fails naming every failed repository.
 */
export async function publishRepositories(
  run: Run,
  locks: RepositoryLocks,
  failedEarlier: ReadonlyMap<string, unknown>,
  /** Every arch tag of the run on every registry, as the first inspection found them (digests only). */
  archTags: readonly PublishedTag[],
): Promise<void> {
  const limit = limiter(run.settings.maxParallelPushes);
  const outcomes = await Promise.allSettled(
    run.plan.repositories.map(async (repository) => {
      if (!failedEarlier.has(repository.repository)) return publishRepository(run, locks, limit, repository, archTags);
      throw failedEarlier.get(repository.repository);
    }),
  );
  const failed: Array<{ repository: string; error: unknown }> = [];
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') return;
    if (isCancellation(outcome.reason)) throw outcome.reason;
    const current = repositoryStatus(run.status, run.plan.repositories[index]!.repository);
    Object.assign(current, { decision: 'failed', error: failureMessage(outcome.reason) });
    delete current.awaitingOverrideUntil;
    failed.push({ repository: current.repository, error: outcome.reason });
  });
  recordDecisionChanges(run);
  if (failed.length === 0) return;
  const root = rootCause(failed[0]!.error);
  throw ApplicationFailure.create({
    message: failed.map(({ repository, error }) => `${repository}: ${failureMessage(error)}`).join('; '),
    type: root instanceof ApplicationFailure && root.type ? root.type : ('RepositoryFailed' satisfies FailureType),
    nonRetryable: true,
    ...(root instanceof Error ? { cause: root } : {}),
  });
}

/**
 * One repository: upload its images (by digest: no tag moves yet), then, holding the repository's lock and on a
 * fresh inspection, decide, write the arch tags that may move and, when the decision allows, the index. A blocked
 * repository then waits for an override, and decides and writes again under the lock once one comes.
 */
async function publishRepository(
  run: Run,
  locks: RepositoryLocks,
  limit: ReturnType<typeof limiter>,
  repository: RepositoryPlan,
  archTags: readonly PublishedTag[],
): Promise<void> {
  const current = repositoryStatus(run.status, repository.repository);
  const notifications = run.settings.notifications;
  if (current.decision !== 'superseded') {
    const tagged = (tag: string, digest: string | undefined) =>
      run.settings.registries.every((registry) =>
        archTags.some(
          (held) =>
            held.registry === registry.url &&
            held.repository === repository.repository &&
            held.tag === tag &&
            held.digest === digest,
        ),
      );
    const images = await settleAll(
      repository.images.map((image) =>
        limit(async () => {
          const tag = archTag(run.plan.release, image.composeArch);
          const digest = run.digests.get(image.sha256);
          // Its arch tag holds it on every registry: the image is there, nothing to upload.
          if (digest && tagged(tag, digest)) return { ociArch: image.ociArch, digest, tag, uploaded: false };
          const uploaded = await uploadArchImage({
            repository: repository.repository,
            image,
            registries: run.settings.registries,
            ...(digest ? { digest } : {}),
          });
          return { ociArch: uploaded.ociArch, digest: uploaded.digest, tag, uploaded: true };
        }),
      ),
    );
    // Nothing to write anywhere (the same compose again, say): no need for the lock.
    if (current.decision === 'noop' && images.every((image) => !image.uploaded)) {
      if (notifications) await announce(run, current, notifications);
      return;
    }
    await publishUnderLock(run, locks, repository, current, images);
    let announced = false;
    while (current.decision === 'blocked') {
      if (notifications && !announced) await announce(run, current, notifications);
      announced = true;
      if (!(await awaitOverride(run, current))) return;
      await publishUnderLock(run, locks, repository, current, images);
    }
  }
  if (notifications) await announce(run, current, notifications);
}

/**
 * Runs started before this held one lock per repository (and registries) for every release: a compose of 42 waited
 * for one of 43 though their tags never meet. Since: one lock per repository and release, so releases publish side
 * by side.
 */
const LOCK_PER_RELEASE_PATCH = 'lock-per-release';

async function publishUnderLock(
  run: Run,
  locks: RepositoryLocks,
  repository: RepositoryPlan,
  current: RepositoryStatus,
  images: ArchImage[],
): Promise<void> {
  const registries = run.settings.registries.map((registry) => registry.url);
  const key = repositoryLockKey({
    registries,
    repository: repository.repository,
    release: run.plan.release,
    perRelease: patched(LOCK_PER_RELEASE_PATCH),
  });
  await locks.withLock(key, async (records, written) => {
    const seen = await inspect(
      run,
      [repository],
      images.map((image) => image.tag),
    );
    const indexes = seen.filter((manifest) => run.plan.manifestTags.includes(manifest.tag));
    decide(run, repository, current, indexes);
    if (current.decision === 'superseded') return;
    const plan = planArchTags({
      composeId: run.input.composeId,
      registries,
      images,
      archTags: seen.filter((manifest) => !run.plan.manifestTags.includes(manifest.tag)),
      indexes,
      records,
    });
    if (plan.write.length > 0) {
      await tagArchImages({
        repository: repository.repository,
        registries: run.settings.registries,
        writes: plan.write.map(({ registry, tag, digest }) => ({ registry, tag, digest })),
      });
      for (const write of plan.write) {
        written.push({
          registry: write.registry,
          tag: write.tag,
          digest: write.digest,
          composeId: run.input.composeId,
        });
        if (!current.pushed.some((pushed) => pushed.ociArch === write.ociArch))
          current.pushed.push({ ociArch: write.ociArch, digest: write.digest });
      }
    }
    if (plan.kept.length > 0) current.archTagsKept = plan.kept;
    if (publishes(current)) {
      // Under the lock, a tag that moved means a publisher outside it: decide again on what it wrote.
      await writeIndexComparing(run, repository, current, indexes, images, (seen) =>
        decide(run, repository, current, seen),
      );
      recordDecisionChanges(run);
    }
  });
}

/** The decision on what the registries hold now (nextDecision), recorded when it changed. */
function decide(run: Run, repository: RepositoryPlan, current: RepositoryStatus, indexes: PublishedTag[]): void {
  const next = nextDecision(current, gate(run, repository, indexes));
  if (next === current) return;
  delete current.newerComposeId;
  delete current.dropped;
  Object.assign(current, next);
  recordDecisionChanges(run);
}

/** The failure that says what went wrong: an activity's own ApplicationFailure rather than "Activity task failed". */
function rootCause(error: unknown): unknown {
  return error instanceof Error && error.cause instanceof Error ? error.cause : error;
}
