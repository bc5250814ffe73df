import { ApplicationFailure, CancellationScope, proxyActivities, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { PublishActivities } from '../activities/index.js';
import { decideGate } from '../domain/gate.js';
import type { PublishedManifest, PublishPlan, RepositoryPlan } from '../domain/types.js';
import { forEachBounded } from './for-each-bounded.js';
import {
  COMPOSE_ID,
  GATE_DECISION,
  RELEASE,
  statusQuery,
  type PublishComposeInput,
  type PublishComposeResult,
  type PublishStatus,
  type RepositoryStatus,
} from './messages.js';

const NON_RETRYABLE = ['MalformedComposeMetadata', 'UnmappedArchitecture', 'ChecksumMismatch', 'RegistryUnauthorized', 'MissingCredentials', 'InvalidInput'];

const { fetchCompose, inspectPublished } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

const { prepareImage, pushArchImage } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

const { pushManifest } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

const { cleanup } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3 },
});

/** How often a tag that changed under us is re-inspected before the run gives up. */
const MAX_REGATES = 3;

/** Publishes one compose: per-arch images everywhere, then the index of every repository the gate lets through. */
export async function publishCompose(input: PublishComposeInput): Promise<PublishComposeResult> {
  const status: PublishStatus = { composeId: input.composeId, manifestTags: [], phase: 'fetching', repositories: [] };
  setHandler(statusQuery, () => status);
  upsertSearchAttributes([{ key: COMPOSE_ID, value: input.composeId }]);
  try {
    const plan = await fetchCompose({ location: input.location, settings: input.settings });
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
    const digests = await prepareAll(plan, input.settings.maxParallelPushes);

    status.phase = 'inspecting';
    const published = await inspectAll(input, plan);
    status.repositories = plan.repositories.map((repository) => gate(input.composeId, repository, digests, published));
    recordDecisions(status);

    status.phase = 'pushing-images';
    await pushArchImages(input, plan, status);

    status.phase = 'publishing-manifests';
    await Promise.all(plan.repositories.map((repository) => publishIndex(input, plan, repository, digests, status, published)));
    recordDecisions(status);
    status.phase = 'done';
    return status;
  } catch (error) {
    status.phase = 'failed';
    status.error = error instanceof Error ? error.message : String(error);
    throw error;
  } finally {
    await CancellationScope.nonCancellable(() => cleanup());
  }
}

async function prepareAll(plan: PublishPlan, parallel: number): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  const images = plan.repositories.flatMap((repository) => repository.images);
  await forEachBounded(images, parallel, async (image) => {
    digests.set(image.sha256, await prepareImage(image));
  });
  return digests;
}

function inspectAll(input: PublishComposeInput, plan: PublishPlan): Promise<PublishedManifest[]> {
  return inspectPublished({
    registries: input.settings.registries,
    repositories: plan.repositories.map((repository) => repository.repository),
    tags: plan.manifestTags,
  });
}

function gate(composeId: string, repository: RepositoryPlan, digests: Map<string, string>, published: PublishedManifest[]): RepositoryStatus {
  const built = Object.fromEntries(repository.images.map((image) => [image.ociArch, digests.get(image.sha256)]));
  const decision = decideGate({
    repository: repository.repository,
    composeId,
    built,
    published: published.filter((manifest) => manifest.repository === repository.repository),
  });
  return { ...decision, pushed: [], manifests: [] };
}

/** The decision and its inputs go into history (memo) and the visibility store (search attributes) before any push. */
function recordDecisions(status: PublishStatus): void {
  const decisions = status.repositories.map(({ repository, decision, built, published, missing }) => ({ repository, decision, built, published, missing }));
  upsertMemo({ gate: decisions });
  upsertSearchAttributes([{ key: GATE_DECISION, value: [...new Set(decisions.map((d) => d.decision))].sort() }]);
}

async function pushArchImages(input: PublishComposeInput, plan: PublishPlan, status: PublishStatus): Promise<void> {
  // A superseded repository pushes nothing: its arch tags would overwrite a newer compose's.
  const jobs = plan.repositories
    .filter((repository) => repositoryStatus(status, repository.repository).decision !== 'superseded')
    .flatMap((repository) => repository.images.map((image) => ({ repository, image })));
  await forEachBounded(jobs, input.settings.maxParallelPushes, async ({ repository, image }) => {
    const pushed = await pushArchImage({ repository: repository.repository, release: plan.release, image, registries: input.settings.registries });
    repositoryStatus(status, repository.repository).pushed.push({ ociArch: pushed.ociArch, digest: pushed.digest });
  });
}

/** Publishes one repository's index on every registry, comparing before writing; a tag that moved meanwhile is re-gated. */
async function publishIndex(
  input: PublishComposeInput,
  plan: PublishPlan,
  repository: RepositoryPlan,
  digests: Map<string, string>,
  status: PublishStatus,
  inspected: PublishedManifest[],
): Promise<void> {
  const current = repositoryStatus(status, repository.repository);
  let seen = inspected.filter((manifest) => manifest.repository === repository.repository);
  for (let attempt = 0; current.decision === 'pass'; attempt++) {
    if ((await pushToEveryRegistry(input, plan, current, seen)) === 'pushed') return;
    if (attempt === MAX_REGATES) {
      throw ApplicationFailure.nonRetryable(
        `${repository.repository}: the published index kept changing while this run tried to replace it (${MAX_REGATES + 1} tries); another publisher is writing the same tags`,
        'ConcurrentPublisher',
      );
    }
    seen = await inspectPublished({ registries: input.settings.registries, repositories: [repository.repository], tags: plan.manifestTags });
    Object.assign(current, gate(input.composeId, repository, digests, seen), { pushed: current.pushed, manifests: current.manifests });
    recordDecisions(status);
  }
}

async function pushToEveryRegistry(
  input: PublishComposeInput,
  plan: PublishPlan,
  current: RepositoryStatus,
  seen: PublishedManifest[],
): Promise<'pushed' | 'changed'> {
  const instances = current.pushed
    .map((p) => ({ ociArch: p.ociArch, digest: p.digest, composeId: input.composeId }))
    .sort((a, b) => a.ociArch.localeCompare(b.ociArch));
  for (const registry of input.settings.registries) {
    const expected = Object.fromEntries(seen.filter((m) => m.registry === registry.url).map((m) => [m.tag, m.digest]));
    const result = await pushManifest({ repository: current.repository, registry, tags: plan.manifestTags, instances, expected });
    if (result.outcome === 'changed') return 'changed';
    for (const [tag, digest] of Object.entries(result.digests)) current.manifests.push({ registry: registry.url, tag, digest });
  }
  return 'pushed';
}

function repositoryStatus(status: PublishStatus, repository: string): RepositoryStatus {
  const found = status.repositories.find((r) => r.repository === repository);
  if (!found) throw new Error(`no status for repository ${repository}`);
  return found;
}
