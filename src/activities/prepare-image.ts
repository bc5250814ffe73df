import { Context } from '@temporalio/activity';
import type { ImageArtifact } from '../domain/types.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { cachedLayoutPath, localOciLayout } from '../compose/image-cache.js';
import { layoutManifestDigest } from '../compose/oci-layout.js';

/**
 * Downloads, verifies, decompresses and unpacks one image into this host's cache and returns the manifest digest it will
 * have in a registry. Runs for every image before anything is pushed, so a corrupt image publishes nothing.
 */
export function makePrepareImage(environment: ActivityEnvironment) {
  return function prepareImage(image: ImageArtifact): Promise<string> {
    return translatingFailures(`preparing ${image.fileName}`, async () => {
      const signal = Context.current().cancellationSignal;
      return withHeartbeats((report) =>
        environment.cacheBudget.using(cachedLayoutPath(image, environment.cacheDir), async () =>
          layoutManifestDigest(await localOciLayout(image, environment.cacheDir, report, signal, environment.allowedLocations), image),
        ),
      );
    });
  };
}
