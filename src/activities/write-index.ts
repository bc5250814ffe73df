import { Context } from '@temporalio/activity';
import { composeIndex, describeInstance, type InstanceDescriptor } from '../domain/compose-index.js';
import { DomainError } from '../domain/errors.js';
import type { RegistrySettings } from '../domain/settings.js';
import type { IndexInstance } from '../domain/types.js';
import { putIndex, readRemoteConfig, readRemoteManifest, remoteDigest } from '../tools/registry-api.js';
import { manifestDigest } from '../tools/remote-manifest.js';
import type { RegistryAccess } from '../tools/registry-access.js';
import { ToolError } from '../tools/tool-error.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withWorkDirFaults } from './work-dir-faults.js';
import { withHeartbeats } from './heartbeat.js';
import { withRegistryAccess } from './registry-credentials.js';
import { logContext } from './log-context.js';
import { publisherMetrics } from '../observability/metrics.js';

export interface WriteIndexInput {
  repository: string;
  registry: RegistrySettings;
  tags: string[];
  /** Each instance must already be in the repository (by digest); an instance with a platform saves a config read. */
  instances: IndexInstance[];
  /** Compare-before-write: the digest each tag had when the run inspected it (null: absent). */
  expected: Record<string, string | null>;
}

export type WriteIndexResult =
  | { outcome: 'pushed'; registry: string; digests: Record<string, string> }
  /** A tag changed since inspection: nothing was written; the workflow re-inspects and decides again. */
  | { outcome: 'changed'; registry: string; tag: string; expected: string | null; found: string | null };

/**
 * Publishes the index of one repository on one registry: reads each instance's manifest (and config, for its
 * platform) from the repository by digest, which is also the check that every instance is there; composes the OCI
 * index (src/domain/compose-index.ts, each instance annotated with its compose id); writes it to each tag with one
 * manifest PUT, checking the digest each tag was stored as.
 * Idempotent: the same instances give the same index bytes, so a retry writes the same digest.
 */
export function makeWriteIndex(environment: ActivityEnvironment) {
  return function writeIndex(input: WriteIndexInput): Promise<WriteIndexResult> {
    const where = `${input.registry.url}/${input.repository}`;
    const doing = `publishing the index of ${where}`;
    return translatingFailures(doing, () =>
      withWorkDirFaults(environment, doing, undefined, () =>
        withHeartbeats((heartbeat) =>
          withRegistryAccess(input.registry.url, environment, async (access) => {
            const signal = Context.current().cancellationSignal;
            const context = Context.current();
            const started = Date.now();
            // The tags' digests (compare-before-write) and the instances' descriptors are read at once; a tag that
            // changed wins over anything the descriptors' reads found, as when they were read one after the other.
            const [tagDigests, described] = await Promise.all([
              Promise.all(input.tags.map((tag) => remoteDigest(`${where}:${tag}`, access, { signal }))),
              describeInstances(where, input.instances, access, signal).then(
                (descriptors) => ({ descriptors }),
                (error: unknown) => ({ error }),
              ),
            ]);
            for (const [n, tag] of input.tags.entries()) {
              const found = tagDigests[n]!;
              const expected = input.expected[tag] ?? null;
              if (found !== expected) return { outcome: 'changed', registry: input.registry.url, tag, expected, found };
            }
            if ('error' in described) throw described.error;
            const { descriptors } = described;
            heartbeat({ described: where });
            const index = composeIndex(descriptors);
            const indexDigest = manifestDigest(index);
            const digests: Record<string, string> = {};
            for (const tag of input.tags) {
              digests[tag] = await putIndex(`${where}:${tag}`, index, access, { signal });
              // The registry names the digest it stored: the index composed from the instances read above, so no
              // read-back.
              if (digests[tag] !== indexDigest)
                throw new DomainError(
                  'PublishedIndexMismatch',
                  `${where}:${tag} was stored as ${digests[tag]} after the push, expected the composed index ${indexDigest}`,
                );
              heartbeat({ pushed: `${where}:${tag}` });
            }
            publisherMetrics(context.metricMeter).manifestDuration.record(Date.now() - started, {
              registry: input.registry.url,
            });
            context.log.info('index published', {
              ...logContext(context),
              repository: input.repository,
              registry: input.registry.url,
              digests,
            });
            return { outcome: 'pushed', registry: input.registry.url, digests };
          }),
        ),
      ),
    );
  };
}

/**
 * Each instance's descriptor, read from the repository by digest (all at once): its manifest (media type, size)
 * and, unless the input names its platform, its config. An instance the repository lacks fails the activity
 * before anything is written: an index must not point at an image that is not there.
 */
function describeInstances(
  where: string,
  instances: IndexInstance[],
  access: RegistryAccess,
  signal: AbortSignal,
): Promise<InstanceDescriptor[]> {
  return Promise.all(
    instances.map(async (instance) => {
      const reference = `${where}@${instance.digest}`;
      try {
        const [rawManifest, platform] = await Promise.all([
          readRemoteManifest(reference, access, { signal }),
          instance.platform ?? readRemoteConfig(reference, access, { signal }),
        ]);
        if (manifestDigest(rawManifest) !== instance.digest)
          throw new DomainError(
            'PublishedIndexMismatch',
            `${reference} (${instance.ociArch}) reads back with another digest: the registry served another manifest`,
          );
        return describeInstance({
          digest: instance.digest,
          rawManifest,
          platform,
          ...(instance.composeId ? { composeId: instance.composeId } : {}),
        });
      } catch (error) {
        if (error instanceof ToolError && error.kind === 'not-found')
          throw new DomainError(
            'NotFound',
            `${reference} (${instance.ociArch}) is not in ${where}: the index would point at an image the repository does not have; the arch image is pushed before its index`,
          );
        throw error;
      }
    }),
  );
}
