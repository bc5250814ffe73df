import { Context } from '@temporalio/activity';
import type { RegistrySettings } from '../domain/settings.js';
import { COMPOSE_ID_ANNOTATION, type PublishedManifest } from '../domain/types.js';
import { inspectRemote, remoteDigest, type RemoteManifest } from '../tools/skopeo.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withRegistryAccess } from './registry-credentials.js';

export interface InspectPublishedInput {
  registries: RegistrySettings[];
  repositories: string[];
  tags: string[];
  /** Tags (arch tags) whose digest alone is wanted: one request each, returned with no instances. */
  digestOnlyTags?: string[];
}

/** What every registry publishes today at every repository × manifest tag. A missing tag is a first publication. */
export function makeInspectPublished(environment: ActivityEnvironment) {
  return function inspectPublished(input: InspectPublishedInput): Promise<PublishedManifest[]> {
    return translatingFailures('reading the published manifests', async () => {
      const signal = Context.current().cancellationSignal;
      const results: PublishedManifest[] = [];
      for (const registry of input.registries) {
        await withRegistryAccess(registry.url, environment, async (access) => {
          for (const repository of input.repositories) {
            for (const tag of input.tags) {
              const remote = await inspectRemote(`${registry.url}/${repository}:${tag}`, access, { signal });
              results.push(toPublishedManifest(registry.url, repository, tag, remote));
              Context.current().heartbeat({ registry: registry.url, repository, tag });
            }
            for (const tag of input.digestOnlyTags ?? []) {
              const digest = await remoteDigest(`${registry.url}/${repository}:${tag}`, access, { signal });
              results.push({ registry: registry.url, repository, tag, digest, instances: [] });
            }
          }
        });
      }
      return results;
    });
  };
}

export function toPublishedManifest(registry: string, repository: string, tag: string, remote: RemoteManifest): PublishedManifest {
  switch (remote.kind) {
    case 'absent':
      return { registry, repository, tag, digest: null, instances: [] };
    case 'image':
      return { registry, repository, tag, digest: remote.digest, instances: [{ ociArch: remote.architecture, digest: remote.digest }] };
    case 'index':
      return {
        registry,
        repository,
        tag,
        digest: remote.digest,
        instances: remote.instances.map((instance) => ({
          ociArch: instance.architecture,
          digest: instance.digest,
          ...(instance.annotations[COMPOSE_ID_ANNOTATION] ? { composeId: instance.annotations[COMPOSE_ID_ANNOTATION] } : {}),
        })),
      };
  }
}
