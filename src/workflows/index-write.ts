import { ApplicationFailure, patched } from '@temporalio/workflow';
import { indexInstances } from '../domain/index-instances.js';
import type { FailureType } from '../domain/failure-types.js';
import type { OciArch, PublishedTag, RepositoryPlan } from '../domain/types.js';
import { publishes, type RepositoryStatus } from '../domain/run-contract/index.js';
import { pushManifest, signImages, writeIndex } from './activities.js';
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
  inspected: PublishedTag[],
  images: ReadonlyArray<{ ociArch: OciArch; digest: string }>,
  redecide: (seen: PublishedTag[]) => void,
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
  seen: PublishedTag[],
  images: ReadonlyArray<{ ociArch: OciArch; digest: string; tag?: string }>,
): Promise<'pushed' | 'changed'> {
  current.manifests = [];
  const writes = run.settings.registries.map((registry) => {
    const onRegistry = seen.filter((manifest) => manifest.registry === registry.url);
    const instances = indexInstances({
      composeId: run.input.composeId,
      pushed: images.map((image) => {
        const platform = run.platforms?.get(image.digest);
        return { ociArch: image.ociArch, digest: image.digest, ...(platform ? { platform } : {}) };
      }),
      carryMissing: current.decision === 'overridden' && current.override?.mode === 'hybrid',
      missing: current.missing,
      published: onRegistry,
    });
    return { registry, onRegistry, instances };
  });
  const signing = run.settings.signing === true && patched(SIGNED_PUBLICATION_PATCH);
  // Every instance is signed and verified from the registry before the index that names it is written.
  if (signing) {
    const archTags = (registry: string, digest: string) =>
      images
        .filter((image) => image.digest === digest && image.tag !== undefined)
        .map((image) => image.tag!)
        .filter((tag) => !current.archTagsKept?.some((kept) => kept.registry === registry && kept.tag === tag));
    await sign(run, current, (registry) =>
      writes
        .find((write) => write.registry.url === registry)!
        .instances.map((instance) => ({ digest: instance.digest, tags: archTags(registry, instance.digest) })),
    );
  }
  for (const { registry, onRegistry, instances } of writes) {
    const expected = Object.fromEntries(onRegistry.map((manifest) => [manifest.tag, manifest.digest]));
    const result = await (patched(INDEX_VOCABULARY_PATCH) ? writeIndex : pushManifest)({
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
  if (signing) {
    await sign(run, current, (registry) => {
      const written = current.manifests.filter((index) => index.registry === registry);
      return [...new Set(written.map((index) => index.digest))].map((digest) => ({
        digest,
        tags: written.filter((index) => index.digest === digest).map((index) => index.tag),
      }));
    });
  }
  return 'pushed';
}

/** Runs started before this called the activity that writes an index pushManifest. */
const INDEX_VOCABULARY_PATCH = 'index-vocabulary';

/** Runs started before this signed nothing, whatever their worker's config. */
const SIGNED_PUBLICATION_PATCH = 'signed-publication';

/** Signs (or finds signed) and verifies `digests` on every registry; a signature that does not verify fails the run. */
async function sign(
  run: Run,
  current: RepositoryStatus,
  digests: (registry: string) => Array<{ digest: string; tags: string[] }>,
): Promise<void> {
  const result = await signImages({
    repository: current.repository,
    registries: run.settings.registries,
    images: run.settings.registries.flatMap((registry) =>
      digests(registry.url).map((image) => ({ registry: registry.url, ...image })),
    ),
  });
  const signatures = (current.signatures ??= []);
  for (const { registry, digest, tags, signed, keys } of result.signatures) {
    const known = signatures.find((s) => s.registry === registry && s.digest === digest);
    if (known)
      Object.assign(known, { tags: [...new Set([...known.tags, ...tags])], signed: known.signed || signed, keys });
    else signatures.push({ registry, digest, tags, signed, keys });
  }
}
