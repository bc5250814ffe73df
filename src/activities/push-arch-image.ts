import { Context } from '@temporalio/activity';
import { archTag } from '../domain/tags.js';
import type { RegistrySettings } from '../domain/settings.js';
import type { ImageArtifact } from '../domain/types.js';
import { pushImage, remoteDigest } from '../tools/registry-api.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { cachedLayoutPath, localOciLayout } from '../compose/image-cache.js';
import { layoutImage, layoutManifestDigest } from '../compose/oci-layout.js';
import { withRegistryAccess } from './registry-credentials.js';
import { logContext } from './log-context.js';
import { publisherMetrics } from '../observability/metrics.js';
import { spaceToPrepare } from './prepare-image.js';
import { withWorkDirFaults } from './work-dir-faults.js';

export interface PushArchImageInput {
  repository: string;
  release: string;
  image: ImageArtifact;
  registries: RegistrySettings[];
}

export interface ArchImagePush {
  ociArch: string;
  /** The manifest digest of this arch image; the same on every registry, since the manifest is sent as it is. */
  digest: string;
}

/** Pushes one arch image to `<registry>/<repo>:<release>-<arch>` on every registry. Safe to run again. Runs started before arch tags were written under the repository lock use it. */
export function makePushArchImage(environment: ActivityEnvironment) {
  return function pushArchImage(input: PushArchImageInput): Promise<ArchImagePush> {
    const tag = archTag(input.release, input.image.composeArch);
    return copyArchImage(environment, input, `pushing ${input.repository}:${tag}`, () => tag);
  };
}

export interface UploadArchImageInput extends Omit<PushArchImageInput, 'release'> {
  /** The manifest digest prepareImage found: a registry that has it already costs one look, not a read of the image. */
  digest?: string;
}

/**
 * Uploads one arch image to `<registry>/<repo>@<digest>` on every registry: blobs and manifest, no tag. The arch
 * tag is set later, under the repository's lock (tagArchImage), once the run knows it may. Safe to run again.
 */
export function makeUploadArchImage(environment: ActivityEnvironment) {
  return function uploadArchImage(input: UploadArchImageInput): Promise<ArchImagePush> {
    return copyArchImage(
      environment,
      input,
      `uploading the ${input.image.composeArch} image of ${input.repository}`,
      (digest) => digest,
    );
  };
}

/**
 * Copies one arch image to `<registry>/<repo>:<reference>` (a tag) or `@<reference>` (a digest) on every registry
 * that does not have it yet, from the OCI layout in the cache (built, or checked, only when some registry needs it).
 */
function copyArchImage(
  environment: ActivityEnvironment,
  input: UploadArchImageInput,
  doing: string,
  referenceFor: (digest: string) => string,
): Promise<ArchImagePush> {
  const pinned = cachedLayoutPath(input.image, environment.cacheDir);
  return translatingFailures(doing, () =>
    withHeartbeats((heartbeat) =>
      environment.cacheBudget.using(pinned, () =>
        withWorkDirFaults(environment, doing, spaceToPrepare(input.image), async () => {
          const context = Context.current();
          const signal = context.cancellationSignal;
          const metrics = publisherMetrics(context.metricMeter);
          const started = Date.now();
          let layout: string | undefined;
          let digest = input.digest;
          const localLayout = async (): Promise<string> => {
            if (layout) return layout;
            layout = await localOciLayout(input.image, environment.cacheDir, heartbeat, signal);
            const found = layoutManifestDigest(layout, input.image);
            if (digest && found !== digest)
              throw new Error(
                `${input.image.fileName}: the cached image's manifest is ${found}, the run prepared ${digest}; will retry`,
              );
            digest = found;
            return layout;
          };
          if (!digest) await localLayout();
          const expected = digest as string;
          const reference = referenceFor(expected);
          const separator = reference.startsWith('sha256:') ? '@' : ':';
          for (const registry of input.registries) {
            const destination = `${registry.url}/${input.repository}${separator}${reference}`;
            await withRegistryAccess(registry.url, environment, async (access) => {
              // One request spares the upload of an image the registry has: a retry, a respin.
              if ((await remoteDigest(destination, access, { signal })) === expected) {
                metrics.archImagesSkipped.add(1, { registry: registry.url });
                context.log.info('arch image already in the registry', {
                  ...logContext(context),
                  repository: input.repository,
                  registry: registry.url,
                  reference,
                  digest: expected,
                });
                return;
              }
              const source = await localLayout();
              const pushed = await pushImage(
                `${registry.url}/${input.repository}`,
                reference,
                layoutImage(source, input.image),
                access,
                { signal, onBlob: (blob, sent) => heartbeat({ stage: 'push', registry: registry.url, blob, sent }) },
              );
              if (pushed !== expected) {
                throw new Error(`${destination}: registry stored ${pushed}, expected ${expected}; will retry`);
              }
              metrics.archImagesPushed.add(1, { registry: registry.url });
              metrics.bytesPushed.add(input.image.size ?? 0, { registry: registry.url });
              context.log.info('arch image pushed', {
                ...logContext(context),
                repository: input.repository,
                registry: registry.url,
                reference,
                digest: expected,
              });
            });
            heartbeat({ stage: 'pushed', registry: registry.url });
          }
          metrics.pushDuration.record(Date.now() - started, { repository: input.repository });
          return { ociArch: input.image.ociArch, digest: expected };
        }),
      ),
    ),
  );
}
