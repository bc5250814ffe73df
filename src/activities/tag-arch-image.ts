import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { Context } from '@temporalio/activity';
import type { RegistrySettings } from '../domain/settings.js';
import { inspectRemote, tagInRegistry } from '../tools/skopeo.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { logContext } from './log-context.js';
import { withRegistryAccess } from './registry-credentials.js';

export interface TagArchImageInput {
  registry: RegistrySettings;
  repository: string;
  tag: string;
  /** An arch image uploadArchImage put in this repository. */
  digest: string;
}

/** Points one arch tag (e.g. fedora:40-aarch64) at an uploaded arch image. Safe to run again. */
export function makeTagArchImage(environment: ActivityEnvironment) {
  return function tagArchImage(input: TagArchImageInput): Promise<void> {
    const where = `${input.registry.url}/${input.repository}`;
    return translatingFailures(`tagging ${where}:${input.tag}`, () =>
      withRegistryAccess(input.registry.url, environment, async (access) => {
        const context = Context.current();
        const signal = context.cancellationSignal;
        const current = await inspectRemote(`${where}:${input.tag}`, access, { signal });
        if (current.kind !== 'absent' && current.digest === input.digest) return;
        const digestFile = join(environment.scratchDir, `${randomUUID()}.digest`);
        try {
          const tagged = await tagInRegistry(where, input.digest, input.tag, access, digestFile, { signal });
          if (tagged !== input.digest) throw new Error(`${where}:${input.tag}: registry stored ${tagged}, expected ${input.digest}; will retry`);
        } finally {
          await rm(digestFile, { force: true });
        }
        context.log.info('arch tag written', { ...logContext(context), repository: input.repository, registry: input.registry.url, tag: input.tag, digest: input.digest });
      }),
    );
  };
}
