import { Context } from '@temporalio/activity';
import type { RegistrySettings } from '../domain/settings.js';
import { tagManifest } from '../tools/registry-api.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withWorkDirFaults } from './work-dir-faults.js';
import { withHeartbeats } from './heartbeat.js';
import { logContext } from './log-context.js';
import { withRegistryAccess } from './registry-credentials.js';
import { pool } from '../tools/pool.js';

const TAG_WRITES_AT_ONCE = 4;

export interface TagArchImagesInput {
  repository: string;
  /** Every registry of the run; each write names one by its url. */
  registries: RegistrySettings[];
  /** Arch tags to point at arch images uploadArchImage put in the repository. */
  writes: Array<{ registry: string; tag: string; digest: string }>;
}

/** Points a repository's arch tags (e.g. fedora:40-aarch64) at uploaded arch images, on every registry. Safe to run again (a retry writes the same). */
export function makeTagArchImages(environment: ActivityEnvironment) {
  return function tagArchImages(input: TagArchImagesInput): Promise<void> {
    const doing = `tagging the arch images of ${input.repository}`;
    return translatingFailures(doing, () =>
      withWorkDirFaults(environment, doing, undefined, () =>
        withHeartbeats(async (heartbeat) => {
          const context = Context.current();
          const signal = context.cancellationSignal;
          // Each write is a manifest read and written back under the tag: several at once, every registry at once.
          await Promise.all(
            input.registries.map(async (registry) => {
              const writes = input.writes.filter((write) => write.registry === registry.url);
              if (writes.length === 0) return;
              const where = `${registry.url}/${input.repository}`;
              await withRegistryAccess(registry.url, environment, (access) =>
                pool(writes, TAG_WRITES_AT_ONCE, async ({ tag, digest }) => {
                  // The run inspected these tags under the repository lock just now: each one written here differs.
                  heartbeat({ tagging: `${where}:${tag}` });
                  const tagged = await tagManifest(where, digest, tag, access, { signal });
                  if (tagged !== digest)
                    throw new Error(`${where}:${tag}: registry stored ${tagged}, expected ${digest}; will retry`);
                  context.log.info('arch tag written', {
                    ...logContext(context),
                    repository: input.repository,
                    registry: registry.url,
                    tag,
                    digest,
                  });
                }),
              );
            }),
          );
        }),
      ),
    );
  };
}
