// LEGACY, for replay only. How runs started before the patch `repository-lock` (publish-compose.ts) published:
// every image prepared before anything else (prepareAll), arch tags written before any lock by every run not
// superseded at the first gate, then each index under the polled index lock (index-lock.ts, patch `index-lock`),
// and blocked repositories waiting for an override (patch `wait-for-override`).
// Delete with index-lock.ts and for-each-bounded.ts once no open run predates `repository-lock`: the retirement
// procedure is in docs/operators.md ("Retiring old-history code").
import { patched } from '@temporalio/workflow';
import type { PublishedTag, PublishPlan, RepositoryPlan } from '../../domain/types.js';
import { prepareImage, pushArchImage } from '../activities.js';
import { withIndexLock } from './index-lock.js';
import { publishes, type RepositoryStatus } from '../../domain/run-contract/index.js';
import { forEachBounded } from './for-each-bounded.js';
import { announce } from '../announce.js';
import { gate, inspect, recordDecisions } from '../decisions.js';
import { writeIndexComparing } from '../index-write.js';
import { awaitOverride } from '../override-wait.js';
import { repositoryStatus, type Run } from '../run.js';
import { preparedDigest } from '../../domain/prepared-image.js';

/** Runs started before blocked repositories waited for an override ended them at once. */
const WAIT_FOR_OVERRIDE_PATCH = 'wait-for-override';

/** Decides again on a fresh inspection. An operator's override stands unless a newer compose got published meanwhile. */
function regate(run: Run, repository: RepositoryPlan, current: RepositoryStatus, seen: PublishedTag[]): void {
  const fresh = gate(run, repository, seen);
  const { override } = current;
  const decision =
    !override || fresh.decision === 'superseded' ? fresh.decision : override.mode === 'skip' ? 'skipped' : 'overridden';
  Object.assign(current, {
    decision,
    built: fresh.built,
    published: fresh.published,
    missing: fresh.missing,
    ...(fresh.newerComposeId ? { newerComposeId: fresh.newerComposeId } : {}),
    ...(override?.mode === 'publish-available' && decision === 'overridden' ? { dropped: fresh.missing } : {}),
  });
}

export async function pushArchImages(run: Run): Promise<void> {
  // A superseded repository pushes nothing: its arch tags would overwrite a newer compose's.
  const jobs = run.plan.repositories
    .filter((repository) => repositoryStatus(run.status, repository.repository).decision !== 'superseded')
    .flatMap((repository) => repository.images.map((image) => ({ repository, image })));
  await forEachBounded(jobs, run.settings.maxParallelPushes, async ({ repository, image }) => {
    const pushed = await pushArchImage({
      repository: repository.repository,
      release: run.plan.release,
      image,
      registries: run.settings.registries,
    });
    repositoryStatus(run.status, repository.repository).pushed.push({ ociArch: pushed.ociArch, digest: pushed.digest });
  });
}

/** After the arch images: publish the index, or, for a blocked repository, wait for an operator first. */
export async function finishRepository(run: Run, repository: RepositoryPlan, inspected: PublishedTag[]): Promise<void> {
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

/** Runs started before index writes were serialized per repository wrote without the lock. */
const INDEX_LOCK_PATCH = 'index-lock';

/** Publishes one repository's index on every registry, one run at a time per repository, comparing before writing. */
async function publishIndex(
  run: Run,
  repository: RepositoryPlan,
  current: RepositoryStatus,
  inspected: PublishedTag[],
): Promise<void> {
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

function writeIndex(
  run: Run,
  repository: RepositoryPlan,
  current: RepositoryStatus,
  inspected: PublishedTag[],
): Promise<void> {
  return writeIndexComparing(run, repository, current, inspected, current.pushed, (seen) => {
    regate(run, repository, current, seen);
    recordDecisions(run.status);
  });
}

/** Prepares every image before anything else; the first failure fails the run. */
export async function prepareAll(plan: PublishPlan, parallel: number): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const images = plan.repositories.flatMap((repository) => repository.images);
  await forEachBounded(images, parallel, async (image) => {
    digests.set(image.sha256, preparedDigest(await prepareImage(image)));
  });
  return digests;
}
