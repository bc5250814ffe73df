import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { archTag } from '../domain/tags.js';
import type { RegistrySettings } from '../domain/settings.js';
import type { ImageArtifact } from '../domain/types.js';
import { archiveManifestDigest, copyToRegistry, inspectRemote } from '../tools/skopeo.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { cachedArchivePath, localOciArchive } from '../compose/image-cache.js';
import { withRegistryAccess } from './registry-credentials.js';
import { logContext } from './log-context.js';
import { publisherMetrics } from '../observability/metrics.js';

export interface PushArchImageInput {
  repository: string;
  release: string;
  image: ImageArtifact;
  registries: RegistrySettings[];
}

export interface ArchImagePush {
  ociArch: string;
  /** The manifest digest of this arch image; the same on every registry, since skopeo keeps the manifest. */
  digest: string;
}

/** Pushes one arch image to `<registry>/<repo>:<release>-<arch>` on every registry. Safe to run again. Runs started before arch tags were written under the repository lock use it. */
export function makePushArchImage(environment: ActivityEnvironment) {
  return function pushArchImage(input: PushArchImageInput): Promise<ArchImagePush> {
    const tag = archTag(input.release, input.image.composeArch);
    return copyArchImage(environment, input, `pushing ${input.repository}:${tag}`, () => tag);
  };
}

export type UploadArchImageInput = Omit<PushArchImageInput, 'release'>;

/**
 * Uploads one arch image to `<registry>/<repo>@<digest>` on every registry: blobs and manifest, no tag. The arch
 * tag is set later, under the repository's lock (tagArchImage), once the run knows it may. Safe to run again.
 */
export function makeUploadArchImage(environment: ActivityEnvironment) {
  return function uploadArchImage(input: UploadArchImageInput): Promise<ArchImagePush> {
    return copyArchImage(environment, input, `uploading the ${input.image.composeArch} image of ${input.repository}`, (digest) => digest);
  };
}

/** Copies one cached arch image to `<registry>/<repo>:<reference>` (a tag) or `@<reference>` (a digest) on every registry, unless it is there. */
function copyArchImage(environment: ActivityEnvironment, input: UploadArchImageInput, doing: string, referenceFor: (digest: string) => string): Promise<ArchImagePush> {
  const pinned = cachedArchivePath(input.image, environment.cacheDir);
  return translatingFailures(doing, () => withHeartbeats((heartbeat) => environment.cacheBudget.using(pinned, async () => {
    const context = Context.current();
    const signal = context.cancellationSignal;
    const metrics = publisherMetrics(context.metricMeter);
    const started = Date.now();
    const archive = await localOciArchive(input.image, environment.cacheDir, heartbeat, signal);
    const digest = await archiveManifestDigest(archive, { signal });
    const reference = referenceFor(digest);
    const separator = reference.startsWith('sha256:') ? '@' : ':';
    for (const registry of input.registries) {
      const destination = `${registry.url}/${input.repository}${separator}${reference}`;
      await withRegistryAccess(registry.url, environment, async (access) => {
        const current = await inspectRemote(destination, access, { signal });
        if (current.kind !== 'absent' && current.digest === digest) {
          metrics.archImagesSkipped.add(1, { registry: registry.url });
          context.log.info('arch image already in the registry', { ...logContext(context), repository: input.repository, registry: registry.url, reference, digest });
          return;
        }
        const digestFile = join(environment.scratchDir, `${randomUUID()}.digest`);
        try {
          const pushed = await copyToRegistry(`oci-archive:${archive}`, destination, access, digestFile, {
            signal,
            onOutput: (line) => heartbeat({ stage: 'push', registry: registry.url, line }),
          });
          if (pushed !== digest) {
            throw new Error(`${destination}: registry stored ${pushed}, expected ${digest}; will retry`);
          }
        } finally {
          await rm(digestFile, { force: true });
        }
        metrics.archImagesPushed.add(1, { registry: registry.url });
        metrics.bytesPushed.add(input.image.size ?? 0, { registry: registry.url });
        context.log.info('arch image pushed', { ...logContext(context), repository: input.repository, registry: registry.url, reference, digest });
      });
      heartbeat({ stage: 'pushed', registry: registry.url });
    }
    metrics.pushDuration.record(Date.now() - started, { repository: input.repository });
    return { ociArch: input.image.ociArch, digest };
  })));
}
