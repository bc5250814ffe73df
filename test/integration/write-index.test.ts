// The index-writing activity alone, against the harness registry: the index composed from the instances read in the
// repository, one write per tag, compare-before-write, idempotency, and nothing written when an instance is missing.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { activityEnvironment } from '../../src/activities/environment.js';
import { makeWriteIndex, type WriteIndexInput, type WriteIndexResult } from '../../src/activities/write-index.js';
import { COMPOSE_ID_ANNOTATION, type IndexInstance } from '../../src/domain/types.js';
import { copyToRegistry, inspectRemote } from '../../src/tools/skopeo.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { testSettings } from '../support/publisher.js';
import { scratchSubdir } from '../support/temporal.js';

const anonymous = { tlsVerify: false };

describe('writeIndex (one write per index and tag)', () => {
  let dir: string;
  let compose: MadeCompose;
  const instances: IndexInstance[] = [];
  const settings = testSettings();
  const registry = settings.registries[0]!;
  const where = `${registry.url}/fedora`;
  const writeIndex = (input: WriteIndexInput): Promise<WriteIndexResult> =>
    new MockActivityEnvironment().run(
      makeWriteIndex(activityEnvironment({ workDir: join(dir, 'worker'), settings })),
      input,
    );

  beforeAll(async () => {
    dir = scratchSubdir('write-index');
    compose = await makeCompose(
      { composeId: 'Fedora-40-20240701.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
    );
    for (const image of compose.images) {
      const archive = join(dir, `${image.composeArch}.oci.tar`);
      await execa('xz', ['--decompress', '--stdout', image.path], { stdout: { file: archive } });
      const digest = await copyToRegistry(
        `oci-archive:${archive}`,
        `${where}:40-${image.composeArch}`,
        anonymous,
        join(dir, 'digest'),
      );
      instances.push({ ociArch: image.ociArch, digest, composeId: compose.composeId });
    }
    instances.sort((a, b) => a.ociArch.localeCompare(b.ociArch));
  });

  it('writes one index to every tag, reads it back, and is idempotent; a tag that moved is reported, not written', async () => {
    const input = { repository: 'fedora', registry, tags: ['40', 'latest'], instances };
    const pushed = await writeIndex({ ...input, expected: { '40': null, latest: null } });
    expect(pushed.outcome).toBe('pushed');
    if (pushed.outcome !== 'pushed') return;
    expect(pushed.digests['40']).toMatch(/^sha256:/);
    expect(pushed.digests.latest).toBe(pushed.digests['40']);
    const index = await inspectRemote(`${where}:latest`, anonymous);
    expect(index).toMatchObject({ kind: 'index', digest: pushed.digests['40'] });
    if (index.kind !== 'index') return;
    expect(index.instances.map((i) => [i.architecture, i.os, i.digest, i.annotations[COMPOSE_ID_ANNOTATION]])).toEqual(
      instances.map((i) => [i.ociArch, 'linux', i.digest, compose.composeId]),
    );

    // The same input again, told what the tags hold now: the same bytes, the same digest.
    const again = await writeIndex({ ...input, expected: pushed.digests });
    expect(again).toEqual(pushed);
    // Told the tags were absent (what the run saw before another writer): nothing written, the change reported.
    const stale = await writeIndex({ ...input, expected: { '40': null, latest: null } });
    expect(stale).toEqual({
      outcome: 'changed',
      registry: registry.url,
      tag: '40',
      expected: null,
      found: pushed.digests['40'],
    });
    // An instance that carries its platform is written the same (its config is not read).
    const withPlatform = instances.map((i) => ({ ...i, platform: { architecture: i.ociArch, os: 'linux' } }));
    const known = await writeIndex({ ...input, instances: withPlatform, expected: pushed.digests });
    expect(known).toEqual(pushed);
  });

  it('writes nothing when an instance is not in the repository', async () => {
    const missing = `sha256:${createHash('sha256').update('not pushed').digest('hex')}`;
    const failure = await writeIndex({
      repository: 'fedora',
      registry,
      tags: ['41'],
      instances: [...instances, { ociArch: 's390x', digest: missing, composeId: compose.composeId }],
      expected: { '41': null },
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect((failure as ApplicationFailure).type).toBe('NotFound');
    expect((failure as ApplicationFailure).message).toContain(missing);
    expect(await inspectRemote(`${where}:41`, anonymous)).toEqual({ kind: 'absent' });
  });
});
