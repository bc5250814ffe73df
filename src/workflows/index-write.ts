import { ApplicationFailure } from '@temporalio/workflow';
import { indexInstances } from '../domain/index-instances.js';
import type { FailureType } from '../domain/failure-types.js';
import type { OciArch, PublishedManifest, RepositoryPlan } from '../domain/types.js';
import { publishes, type RepositoryStatus } from '../domain/run-contract/index.js';
import { pushManifest } from './activities.js';
import { inspect } from './decisions.js';
import { updateWaitingPhase } from './override-wait.js';
import type { Run } from './run.js';

/** How often a tag that changed under us is re-inspected before the run gives up. */
export const MAX_REGATES = 3;

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
