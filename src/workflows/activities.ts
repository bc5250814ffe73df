import { proxyActivities, type ActivityFunctionWithOptions, type ActivityInterfaceFor } from '@temporalio/workflow';
import type { PublishActivities } from '../activities/index.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../domain/failure-types.js';
import { archTag } from '../domain/tags.js';

/** The activities of a publish run, each with the timeouts and retry policy its work needs. */
const NON_RETRYABLE = [...NON_RETRYABLE_FAILURE_TYPES];

type Args<K extends keyof PublishActivities> = Parameters<PublishActivities[K]>;

/**
 * Each call carries a one-line summary (Temporal user metadata), so the event history in the UI reads
 * "push fedora 40-x86_64 → quay.io/fedora" rather than pushArchImage with an opaque payload.
 */
function summarized<K extends keyof PublishActivities>(
  proxy: ActivityInterfaceFor<PublishActivities>,
  name: K,
  summary: (...args: Args<K>) => string,
): (...args: Args<K>) => Promise<Awaited<ReturnType<PublishActivities[K]>>> {
  const activity = proxy[name] as ActivityFunctionWithOptions<PublishActivities[K]>;
  return (...args) => activity.executeWithOptions({ summary: oneLine(summary(...args)) }, args);
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

const registriesOf = (registries: ReadonlyArray<{ url: string }>) =>
  registries.map((registry) => registry.url).join(', ');

const BASIC_RETRY = {
  initialInterval: '2s',
  backoffCoefficient: 2,
  maximumInterval: '1 minute',
  maximumAttempts: 10,
  nonRetryableErrorTypes: NON_RETRYABLE,
};

// A timeout is also how long a run waits when the worker running the activity dies: each is as short as its work.
const instant = proxyActivities<PublishActivities>({ startToCloseTimeout: '30 seconds', retry: BASIC_RETRY });
const basic = proxyActivities<PublishActivities>({ startToCloseTimeout: '5 minutes', retry: BASIC_RETRY });
/**
 * Long activities heartbeat every 2 s (src/activities/heartbeat.ts), so a worker that dies is noticed this soon
 * and its activity retried on another worker at once: a crash costs seconds, not minutes.
 */
const HEARTBEAT_TIMEOUT = '10 seconds';

/**
 * inspectPublished heartbeats every 2 s and after each lookup: it runs while the images are prepared, so a worker
 * that dies in it must not hold the run up longer than one that dies in a download.
 */
const inspections = proxyActivities<PublishActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: BASIC_RETRY,
});
export const workerSettings = summarized(
  instant,
  'workerSettings',
  () => 'ask the worker for its registries, repositories, arch map and releases',
);
export const fetchCompose = summarized(basic, 'fetchCompose', (input) => `read the compose at ${input.location}`);
export const inspectPublished = summarized(
  inspections,
  'inspectPublished',
  (input) =>
    `inspect ${input.repositories.join(', ')} :${input.tags.join(', ')}${input.digestOnlyTags?.length ? ` (and ${input.digestOnlyTags.length} arch tags)` : ''} on ${registriesOf(input.registries)}`,
);

/**
 * Image activities are retried 1 s after a failure; the retried attempt finds the image already unpacked in the
 * worker's cache and the blobs already in the registry.
 */
const images = proxyActivities<PublishActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  // 12 attempts from 1 s, doubling to 5 minutes: about 18 minutes of retries for a registry that is down.
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: 12,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});
export const prepareImage = summarized(
  images,
  'prepareImage',
  (image) => `prepare the ${image.composeArch} image ${image.fileName}`,
);
export const pushArchImage = summarized(
  images,
  'pushArchImage',
  (input) =>
    `push ${input.repository} ${archTag(input.release, input.image.composeArch)} → ${registriesOf(input.registries)}`,
);
export const uploadArchImage = summarized(
  images,
  'uploadArchImage',
  (input) =>
    `upload ${input.repository} ${input.image.composeArch} image (by digest, no tag) → ${registriesOf(input.registries)}`,
);

const manifests = proxyActivities<PublishActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 8,
    nonRetryableErrorTypes: NON_RETRYABLE,
  },
});
export const writeIndex = summarized(
  manifests,
  'writeIndex',
  (input) =>
    `publish index ${input.repository}:${input.tags.join(', ')} → ${input.registry.url} (${input.instances.map((instance) => instance.ociArch).join(', ')})`,
);
/** writeIndex under its old name, called by runs started before the index-vocabulary patch. */
export const pushManifest = summarized(
  manifests,
  'pushManifest',
  (input) =>
    `publish index ${input.repository}:${input.tags.join(', ')} → ${input.registry.url} (${input.instances.map((instance) => instance.ociArch).join(', ')})`,
);
export const signImages = summarized(
  manifests,
  'signImages',
  (input) =>
    `sign and verify ${input.repository} ${[...new Set(input.images.map((image) => image.digest.slice(7, 19)))].join(', ')} on ${registriesOf(input.registries)}`,
);
export const tagArchImages = summarized(
  manifests,
  'tagArchImages',
  (input) =>
    `tag ${input.repository} ${[...new Set(input.writes.map((write) => write.tag))].join(', ')} on ${[...new Set(input.writes.map((write) => write.registry))].join(', ')}`,
);

const notifications = proxyActivities<PublishActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE },
});
export const notify = summarized(notifications, 'notify', (input) => `announce ${input.notification.topic}`);

const cleanups = proxyActivities<PublishActivities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 3 },
});
export const cleanup = summarized(
  cleanups,
  'cleanup',
  () => "remove this run's local manifest lists and scratch files",
);
