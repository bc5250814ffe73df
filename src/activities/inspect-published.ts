import { Context } from '@temporalio/activity';
import type { RegistrySettings } from '../domain/settings.js';
import { COMPOSE_ID_ANNOTATION, type PublishedTag } from '../domain/types.js';
import { inspectManifest, listTags, remoteDigest } from '../tools/registry-api.js';
import type { RemoteManifest } from '../tools/remote-manifest.js';
import { ToolError } from '../tools/tool-error.js';
import type { RegistryAccess } from '../tools/registry-access.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withHeartbeats } from './heartbeat.js';
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

/**
 * What every registry publishes today at every repository × manifest tag, and the digest of each arch tag. A missing
 * tag is a first publication.
 *
 * Each lookup is a request to the registry (src/tools/registry-api.ts). One tag list per repository and registry
 * says which tags exist, and only those are read: a first publication reads almost nothing. A tag the
 * list leaves out is absent. When the registry answers 404 for the list (no tag in the repository yet, or a
 * registry that does not list tags), the manifest tags are still read one by one, since the gate's decision rests
 * on them, and the arch tags count as absent only if every manifest tag is. When the list fails otherwise
 * (refused, a timeout), every tag is read.
 */
export function makeInspectPublished(environment: ActivityEnvironment) {
  return function inspectPublished(input: InspectPublishedInput): Promise<PublishedTag[]> {
    return translatingFailures('reading the published manifests', () =>
      withHeartbeats(async () => {
        const signal = Context.current().cancellationSignal;
        const atOnce = Math.max(2, Math.ceil(INSPECTIONS_AT_ONCE / input.registries.length));
        // Every registry at once, each with a share of the processes.
        const perRegistry = await Promise.all(
          input.registries.map((registry) =>
            withRegistryAccess(registry.url, environment, async (access) => {
              const listed = await pool(input.repositories, atOnce, (repository) =>
                listTags(`${registry.url}/${repository}`, access, { signal }).catch((error: unknown) => {
                  if (error instanceof ToolError) return undefined;
                  throw error;
                }),
              );
              const read = (repository: string, tag: string, digestOnly: boolean) =>
                lookUp(registry.url, repository, tag, digestOnly, access, signal);
              const absent = (repository: string, tag: string): PublishedTag =>
                toPublishedTag(registry.url, repository, tag, { kind: 'absent' });
              const manifests = await pool(
                input.repositories.flatMap((repository, n) => input.tags.map((tag) => ({ repository, tag, n }))),
                atOnce,
                async ({ repository, tag, n }) => {
                  const tags = listed[n];
                  return tags && !tags.includes(tag) ? absent(repository, tag) : read(repository, tag, false);
                },
              );
              const archTags = await pool(
                input.repositories.flatMap((repository, n) =>
                  (input.digestOnlyTags ?? []).map((tag) => ({ repository, tag, n })),
                ),
                atOnce,
                async ({ repository, tag, n }) => {
                  const tags = listed[n];
                  // A 404 list is believed for the arch tags only while the repository shows no manifest tag either.
                  const unlisted =
                    tags === null
                      ? manifests.every((manifest) => manifest.repository !== repository || manifest.digest === null)
                      : tags !== undefined && !tags.includes(tag);
                  return unlisted ? absent(repository, tag) : read(repository, tag, true);
                },
              );
              return [...manifests, ...archTags];
            }),
          ),
        );
        return perRegistry.flat();
      }),
    );
  };
}

/** One tag read: the manifest (and, for a single image, its config), or its digest alone. */
async function lookUp(
  registry: string,
  repository: string,
  tag: string,
  digestOnly: boolean,
  access: RegistryAccess,
  signal: AbortSignal,
): Promise<PublishedTag> {
  const reference = `${registry}/${repository}:${tag}`;
  const found: PublishedTag = digestOnly
    ? { registry, repository, tag, digest: await remoteDigest(reference, access, { signal }), instances: [] }
    : toPublishedTag(registry, repository, tag, await inspectManifest(reference, access, { signal }));
  Context.current().heartbeat({ registry, repository, tag });
  return found;
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
