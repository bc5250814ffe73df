import { Context } from '@temporalio/activity';
import type { ImageArtifact, PreparedImage } from '../domain/types.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { cachedLayoutPath, localOciLayout } from '../compose/image-cache.js';
import { layoutManifestDigest, layoutPlatform } from '../compose/oci-layout.js';
import { isRemote } from '../compose/compose-files.js';
import { withWorkDirFaults } from './work-dir-faults.js';

/**
 * Downloads, verifies, decompresses and unpacks one image into this host's cache and returns the manifest digest it will
 * have in a registry, and its platform (for the index, which then needs no read of the config from the registry).
 * Runs for every image before anything is pushed, so a corrupt image publishes nothing.
 */
export function makePrepareImage(environment: ActivityEnvironment) {
  return function prepareImage(image: ImageArtifact): Promise<PreparedImage> {
    const doing = `preparing ${image.fileName}`;
    return translatingFailures(doing, async () => {
      const signal = Context.current().cancellationSignal;
      return withHeartbeats((report) =>
        environment.cacheBudget.using(cachedLayoutPath(image, environment.cacheDir), () =>
          withWorkDirFaults(environment, doing, spaceToPrepare(image), async () => {
            const layout = await localOciLayout(
              image,
              environment.cacheDir,
              report,
              signal,
              environment.allowedLocations,
            );
            return { digest: layoutManifestDigest(layout, image), platform: layoutPlatform(layout, image) };
          }),
        ),
      );
    });
  };
}

/**
 * What preparing an image takes in the work dir, as far as images.json tells: its unpacked layout (about the size of
 * the archive: the layers in it are compressed already), the decompressed tar it is unpacked from (about as big), and
 * the download beside them while it is unpacked.
 */
export function spaceToPrepare(image: ImageArtifact): { bytes: number; what: string } | undefined {
  if (image.size === undefined) return undefined;
  const remote = isRemote(image.location);
  return {
    bytes: image.size * (remote ? 3 : 2),
    what: remote
      ? `the ${image.size}-byte image downloaded, decompressed and unpacked beside it`
      : `the ${image.size}-byte image decompressed and unpacked into the cache`,
  };
}
