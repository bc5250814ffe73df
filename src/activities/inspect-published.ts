import { Context } from '@temporalio/activity';
import type { RegistrySettings } from '../domain/settings.js';
import { COMPOSE_ID_ANNOTATION, type PublishedTag } from '../domain/types.js';
import { inspectRemote, remoteDigest, type RemoteManifest } from '../tools/skopeo.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withRegistryAccess } from './registry-credentials.js';
import { pool } from '../tools/pool.js';

const INSPECTIONS_AT_ONCE = 6;

export interface InspectPublishedInput {
  registries: RegistrySettings[];
  repositories: string[];
  tags: string[];
  /** Tags (arch tags) whose digest alone is wanted: one request each, returned with no instances. */
  digestOnlyTags?: string[];
}

/** What every registry publishes today at every repository × manifest tag. A missing tag is a first publication. */
export function makeInspectPublished(environment: ActivityEnvironment) {
  return function inspectPublished(input: InspectPublishedInput): Promise<PublishedTag[]> {
    return translatingFailures('reading the published manifests', async () => {
      const signal = Context.current().cancellationSignal;
      const results: PublishedTag[] = [];
      for (const registry of input.registries) {
        await withRegistryAccess(registry.url, environment, async (access) => {
          const lookups = input.repositories.flatMap((repository) => [
            ...input.tags.map((tag) => ({ repository, tag, digestOnly: false })),
            ...(input.digestOnlyTags ?? []).map((tag) => ({ repository, tag, digestOnly: true })),
          ]);
          // Each lookup is a skopeo process that mostly waits on the registry: several at a time.
          results.push(
            ...(await pool(lookups, INSPECTIONS_AT_ONCE, async ({ repository, tag, digestOnly }) => {
              const reference = `${registry.url}/${repository}:${tag}`;
              const found: PublishedTag = digestOnly
                ? {
                    registry: registry.url,
                    repository,
                    tag,
                    digest: await remoteDigest(reference, access, { signal }),
                    instances: [],
                  }
                : toPublishedTag(registry.url, repository, tag, await inspectRemote(reference, access, { signal }));
              Context.current().heartbeat({ registry: registry.url, repository, tag });
              return found;
            })),
          );
        });
      }
      return results;
    });
  };
}

export function toPublishedTag(
  registry: string,
  repository: string,
  tag: string,
  remote: RemoteManifest,
): PublishedTag {
  switch (remote.kind) {
    case 'absent':
      return { registry, repository, tag, digest: null, instances: [] };
    case 'image':
      return {
        registry,
        repository,
        tag,
        digest: remote.digest,
        instances: [{ ociArch: remote.architecture, digest: remote.digest }],
      };
    case 'index':
      return {
        registry,
        repository,
        tag,
        digest: remote.digest,
        instances: remote.instances.map((instance) => ({
          ociArch: instance.architecture,
          digest: instance.digest,
          ...(instance.annotations[COMPOSE_ID_ANNOTATION]
            ? { composeId: instance.annotations[COMPOSE_ID_ANNOTATION] }
            : {}),
        })),
      };
  }
}
