import { Context } from '@temporalio/activity';
import type { ImageArtifact } from '../domain/types.js';
import { archiveManifestDigest } from '../tools/skopeo.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
import { cachedArchivePath, localOciArchive } from '../compose/image-cache.js';

/**
 * Downloads, verifies and decompresses one image into this host's cache and returns the manifest digest it will
 * have in a registry. Runs for every image before anything is pushed, so a corrupt image publishes nothing.
 */
export function makePrepareImage(environment: ActivityEnvironment) {
  return function prepareImage(image: ImageArtifact): Promise<string> {
    return translatingFailures(`preparing ${image.fileName}`, async () => {
      const signal = Context.current().cancellationSignal;
      return withHeartbeats((report) =>
        environment.cacheBudget.using(cachedArchivePath(image, environment.cacheDir), async () => {
          const archive = await localOciArchive(image, environment.cacheDir, report, signal);
          return archiveManifestDigest(archive, { signal });
        }),
      );
    });
  };
}
