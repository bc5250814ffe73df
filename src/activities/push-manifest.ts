import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import { DomainError } from '../domain/errors.js';
import type { RegistrySettings } from '../domain/settings.js';
import type { IndexInstance } from '../domain/types.js';
import { COMPOSE_ID_ANNOTATION } from '../domain/types.js';
import { manifestAdd, manifestAnnotate, manifestCreate, manifestPush, removeImages } from '../tools/buildah.js';
import { inspectRemote, remoteDigest } from '../tools/skopeo.js';
import type { RegistryAccess } from '../tools/registry-access.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { withWorkDirFaults } from './work-dir-faults.js';
import { withHeartbeats } from './heartbeat.js';
import { withRegistryAccess } from './registry-credentials.js';
import { localListName, runIdOf } from './local-names.js';
import { logContext } from './log-context.js';
import { publisherMetrics } from '../observability/metrics.js';

/** The compose an instance came from: this compose, or an older one for a carried-forward (hybrid) instance. */

export interface PushManifestInput {
  repository: string;
  registry: RegistrySettings;
  tags: string[];
  instances: IndexInstance[];
  /** Compare-before-write: the digest each tag had when the run inspected it (null: absent). */
  expected: Record<string, string | null>;
}

export type PushManifestResult =
  | { outcome: 'pushed'; registry: string; digests: Record<string, string> }
  /** A tag changed since inspection: nothing was written; the workflow re-inspects and decides again. */
  | { outcome: 'changed'; registry: string; tag: string; expected: string | null; found: string | null };

/**
 * Builds the index from instances by digest, annotates each with its compose id, pushes it to every tag of one
 * registry and reads it back. Idempotent: a retry rebuilds the same local list and pushes the same index.
 */
export function makePushManifest(environment: ActivityEnvironment) {
  return function pushManifest(input: PushManifestInput): Promise<PushManifestResult> {
    const where = `${input.registry.url}/${input.repository}`;
    const doing = `publishing the index of ${where}`;
    return translatingFailures(doing, () =>
      withWorkDirFaults(environment, doing, undefined, () =>
        withHeartbeats((heartbeat) =>
          withRegistryAccess(input.registry.url, environment, async (access) => {
            const signal = Context.current().cancellationSignal;
            for (const tag of input.tags) {
              const found = await remoteDigest(`${where}:${tag}`, access, { signal });
              const expected = input.expected[tag] ?? null;
              if (found !== expected) return { outcome: 'changed', registry: input.registry.url, tag, expected, found };
            }
            const context = Context.current();
            const started = Date.now();
            const listName = localListName(runIdOf(context), input.repository, input.registry.url);
            await removeImages(environment.storage, [listName]);
            try {
              await buildList(environment, listName, where, input.instances, access);
              const digests: Record<string, string> = {};
              for (const tag of input.tags) {
                const digestFile = join(environment.scratchDir, `${randomUUID()}.digest`);
                try {
                  digests[tag] = await manifestPush(
                    environment.storage,
                    listName,
                    `${where}:${tag}`,
                    access,
                    digestFile,
                    { signal },
                  );
                } finally {
                  await rm(digestFile, { force: true });
                }
                await verifyPublished(`${where}:${tag}`, input.instances, access, signal);
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
            } finally {
              await removeImages(environment.storage, [listName]);
            }
          }),
        ),
      ),
    );
  };
}

async function buildList(
  environment: ActivityEnvironment,
  listName: string,
  where: string,
  instances: IndexInstance[],
  access: RegistryAccess,
) {
  await manifestCreate(environment.storage, listName);
  for (const instance of instances) {
    const added = await manifestAdd(environment.storage, listName, `${where}@${instance.digest}`, access);
    if (instance.composeId)
      await manifestAnnotate(environment.storage, listName, added, { [COMPOSE_ID_ANNOTATION]: instance.composeId });
  }
}

async function verifyPublished(
  reference: string,
  instances: IndexInstance[],
  access: RegistryAccess,
  signal: AbortSignal,
) {
  const published = await inspectRemote(reference, access, { signal });
  const want = instances.map((i) => `${i.ociArch}@${i.digest}`).sort();
  const got = published.kind === 'index' ? published.instances.map((i) => `${i.architecture}@${i.digest}`).sort() : [];
  if (want.join() !== got.join()) {
    throw new DomainError(
      'PublishedIndexMismatch',
      `${reference} reads back as [${got.join(', ')}] after the push, expected [${want.join(', ')}]`,
    );
  }
}
