import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishSettings } from '../../src/domain/settings.js';
import { listImageNames } from '../../src/tools/buildah.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose, serveCompose } from '../support/compose-factory.js';
import { recordHistory } from '../support/histories.js';
import { runPublish, testSettings, withPublisherWorker, type PublisherHarness } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const anonymous = { tlsVerify: false };

async function indexAt(reference: string) {
  const manifest = await inspectRemote(reference, anonymous);
  if (manifest.kind !== 'index') return manifest;
  return { ...manifest, arches: manifest.instances.map((i) => i.architecture).sort() };
}

describe('publishCompose on a real registry', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  const storage = () => ({ root: join(dir, 'factory-storage'), runroot: join(dir, 'factory-run') });

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('publish');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const inWorker = <T>(settings: PublishSettings, body: (harness: PublisherHarness) => Promise<T>) =>
    withPublisherWorker(env, dir, body, { settings });

  it('publishes every arch, then blocks the index when a later compose lacks an arch, and pushes its arch tags anyway', async () => {
    const settings = testSettings();
    const registry = settings.registries[0]!.url;
    const first = await makeCompose(
      {
        composeId: 'Fedora-40-20240501.n.0',
        images: { Container_Base: ['x86_64', 'aarch64'], Container_Minimal_Base: ['x86_64'] },
        format: '1.2',
      },
      { dir, storage: storage() },
    );
    const second = await makeCompose(
      {
        composeId: 'Fedora-40-20240502.n.0',
        images: { Container_Base: ['x86_64'], Container_Minimal_Base: ['x86_64'] },
        format: '2.0',
      },
      { dir, storage: storage() },
    );
    const server = await serveCompose(second.root);
    try {
      await inWorker(settings, async ({ taskQueue, workDir }) => {
        const one = await runPublish(
          env,
          taskQueue,
          { location: first.root, composeId: first.composeId },
          `publish:${first.composeId}:first`,
        );
        await recordHistory(env.client.workflow.getHandle(`publish:${first.composeId}:first`), 'first-publication');
        expect(one.phase).toBe('done');
        expect(one.repositories.map((r) => [r.repository, r.decision, r.built, r.missing])).toEqual([
          ['fedora', 'pass', ['amd64', 'arm64'], []],
          ['fedora-minimal', 'pass', ['amd64'], []],
        ]);
        const published = await indexAt(`${registry}/fedora:40`);
        expect(published).toMatchObject({ kind: 'index', arches: ['amd64', 'arm64'] });
        const latest = await indexAt(`${registry}/fedora:latest`);
        expect(latest).toMatchObject({ kind: 'index', digest: (published as { digest: string }).digest });
        if (published.kind !== 'index') throw new Error('unreachable');
        for (const instance of published.instances) {
          expect(instance.annotations['org.fedoraproject.compose.id']).toBe(first.composeId);
        }
        const fedora = one.repositories.find((r) => r.repository === 'fedora')!;
        expect(fedora.pushed.map((p) => p.digest).sort()).toEqual(published.instances.map((i) => i.digest).sort());

        const arm64Before = await inspectRemote(`${registry}/fedora:40-aarch64`, anonymous);
        const amd64Before = await inspectRemote(`${registry}/fedora:40-x86_64`, anonymous);

        const location = server.url.replace(/\/$/, '');
        const two = await runPublish(
          env,
          taskQueue,
          { location, composeId: second.composeId },
          `publish:${second.composeId}:blocked`,
        );
        await recordHistory(env.client.workflow.getHandle(`publish:${second.composeId}:blocked`), 'blocked-over-http');
        expect(two.repositories.map((r) => [r.repository, r.decision, r.built, r.published, r.missing])).toEqual([
          ['fedora', 'blocked', ['amd64'], ['amd64', 'arm64'], ['arm64']],
          ['fedora-minimal', 'pass', ['amd64'], ['amd64'], []],
        ]);
        // The index still serves arm64 users; the arch tag of the arch that built moved on.
        expect(await indexAt(`${registry}/fedora:40`)).toMatchObject({
          digest: published.digest,
          arches: ['amd64', 'arm64'],
        });
        expect(await inspectRemote(`${registry}/fedora:40-aarch64`, anonymous)).toEqual(arm64Before);
        const amd64After = await inspectRemote(`${registry}/fedora:40-x86_64`, anonymous);
        expect(amd64After).not.toEqual(amd64Before);
        expect(two.repositories[0]!.pushed).toEqual([
          { ociArch: 'amd64', digest: (amd64After as { digest: string }).digest },
        ]);
        expect(two.repositories[0]!.manifests).toEqual([]);

        // Nothing the runs created is left in the worker's local storage.
        const names = await listImageNames({
          root: join(workDir, 'worker', 'storage'),
          runroot: join(workDir, 'worker', 'runroot'),
        });
        expect(names.filter((name) => name.includes('compose-publisher-tmp'))).toEqual([]);
      });
    } finally {
      await server.close();
    }
  });

  it('records the decision in memo and search attributes, answers the status query, and is a noop when run again', async () => {
    const settings = testSettings();
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20240503.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '2.0' },
      { dir, storage: storage() },
    );
    await inWorker(settings, async ({ taskQueue }) => {
      const input = { location: compose.root, composeId: compose.composeId };
      const handle = await env.client.workflow.start(publishCompose, {
        taskQueue,
        workflowId: `publish:${compose.composeId}:memo`,
        args: [input],
      });
      const result = await handle.result();
      expect(result.repositories.find((r) => r.repository === 'fedora')?.decision).toBe('pass');
      // The harness worker has no [compose] allowed_locations: the run says it read its compose unchecked.
      expect(result.locationUnchecked).toBe(true);
      // fedora-minimal is configured but this compose built none of it and nothing was published: a noop.
      expect(result.repositories.find((r) => r.repository === 'fedora-minimal')).toMatchObject({
        decision: 'noop',
        built: [],
        published: [],
      });

      const description = await handle.describe();
      expect(description.memo?.gate).toEqual([
        { repository: 'fedora', decision: 'pass', built: ['amd64', 'arm64'], published: [], missing: [] },
        {
          repository: 'fedora-minimal',
          decision: 'noop',
          built: [],
          published: [],
          missing: [],
          skipped: ['Container_Minimal_Base: this compose has no image of this subvariant'],
        },
      ]);
      expect(description.searchAttributes).toMatchObject({
        ComposeId: [compose.composeId],
        Release: ['40'],
        GateDecision: ['noop', 'pass'],
      });
      const history = await handle.fetchHistory();
      const upserts =
        history.events?.filter(
          (e) => e.upsertWorkflowSearchAttributesEventAttributes || e.workflowPropertiesModifiedEventAttributes,
        ) ?? [];
      expect(upserts.length).toBeGreaterThan(0);

      const again = await runPublish(env, taskQueue, input);
      expect(again.repositories.map((r) => r.decision)).toEqual(['noop', 'noop']);
      expect(again.repositories[0]!.manifests).toEqual([]);
    });
  });

  it("publishes to every configured registry, each index referring to its own registry's images", async () => {
    const [one, two] = [testSettings().registries[0]!, testSettings().registries[0]!];
    const settings = testSettings({ registries: [one, two], repositories: { Container_Base: 'fedora' } });
    const compose = await makeCompose(
      { composeId: 'Fedora-Rawhide-20240507.n.1', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '2.0' },
      { dir, storage: storage() },
    );
    await inWorker(settings, async ({ taskQueue }) => {
      const result = await runPublish(env, taskQueue, { location: compose.root, composeId: compose.composeId });
      expect(result).toMatchObject({ release: '42', manifestTags: ['42', 'rawhide'] });
      expect(result.repositories[0]!.manifests.map((m) => `${m.registry}:${m.tag}`).sort()).toEqual(
        [`${one.url}:42`, `${one.url}:rawhide`, `${two.url}:42`, `${two.url}:rawhide`].sort(),
      );
    });
    for (const registry of [one.url, two.url]) {
      expect(await indexAt(`${registry}/fedora:rawhide`)).toMatchObject({ kind: 'index', arches: ['amd64', 'arm64'] });
      expect(await inspectRemote(`${registry}/fedora:42-aarch64`, anonymous)).toMatchObject({
        kind: 'image',
        architecture: 'arm64',
      });
    }
  });

  it('answers the status query while the run is in progress', async () => {
    const settings = testSettings();
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20240504.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: storage() },
    );
    await inWorker(settings, async ({ taskQueue }) => {
      const handle = await env.client.workflow.start(publishCompose, {
        taskQueue,
        workflowId: `publish:${compose.composeId}:query`,
        args: [{ location: compose.root, composeId: compose.composeId }],
      });
      const live = await handle.query(statusQuery);
      expect(live.composeId).toBe(compose.composeId);
      expect([
        'fetching',
        'preparing-images',
        'inspecting',
        'pushing-images',
        'publishing-manifests',
        'done',
      ]).toContain(live.phase);
      await handle.result();
      expect((await handle.query(statusQuery)).phase).toBe('done');
    });
  });

  it('waits as long as a busy compose host asks (429 with Retry-After), not the fixed back-off', async () => {
    const settings = testSettings({ repositories: { Container_Base: 'fedora' } });
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20240508.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: storage() },
    );
    const server = await serveCompose(compose.root, { busyImages: { times: 3, retryAfter: '1' } });
    try {
      await inWorker(settings, async ({ taskQueue }) => {
        const started = Date.now();
        const result = await runPublish(env, taskQueue, {
          location: server.url.replace(/\/$/, ''),
          composeId: compose.composeId,
        });
        // The activity's own back-off would wait 5 + 10 + 20 s for three refusals.
        expect(Date.now() - started).toBeLessThan(20_000);
        expect(result.repositories[0]).toMatchObject({ decision: 'pass', built: ['amd64'] });
      });
      expect(server.requests.filter((request) => request.endsWith('.tar.xz')).length).toBeGreaterThanOrEqual(4);
    } finally {
      await server.close();
    }
  });

  describe('bad input publishes nothing and fails with a named, non-retryable error', () => {
    const cases = [
      {
        name: 'a broken checksum',
        type: 'ChecksumMismatch',
        faults: { breakChecksum: { subvariant: 'Container_Base', arch: 'aarch64' } },
        text: /sha256 is [0-9a-f]{64} but images\.json says/,
      },
      {
        name: 'malformed images.json',
        type: 'MalformedComposeMetadata',
        faults: { malformedJson: 'images' as const },
        text: /images\.json is not valid JSON/,
      },
    ];
    it.each(cases)('$name', async ({ type, faults, text }) => {
      const settings = testSettings();
      const compose = await makeCompose(
        {
          composeId: `Fedora-40-20240505.n.${type.length}`,
          images: { Container_Base: ['x86_64', 'aarch64'] },
          format: '1.2',
          faults,
        },
        { dir, storage: storage() },
      );
      await inWorker(settings, async ({ taskQueue }) => {
        const error = await runPublish(env, taskQueue, { location: compose.root, composeId: compose.composeId }).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(WorkflowFailedError);
        const cause = (error as WorkflowFailedError).cause?.cause as {
          type?: string;
          message: string;
          nonRetryable?: boolean;
        };
        expect(cause.type).toBe(type);
        expect(cause.message).toMatch(text);
      });
      const registry = settings.registries[0]!.url;
      for (const tag of ['40', '40-x86_64', '40-aarch64']) {
        expect(await inspectRemote(`${registry}/fedora:${tag}`, anonymous)).toEqual({ kind: 'absent' });
      }
    });

    it('a broken image fails its own repository only: the other repositories publish, and the run fails naming it', async () => {
      const settings = testSettings();
      const registry = settings.registries[0]!.url;
      const compose = await makeCompose(
        {
          composeId: 'Fedora-40-20250330.n.0',
          images: { Container_Base: ['x86_64', 'aarch64'], Container_Minimal_Base: ['x86_64', 'aarch64'] },
          format: '1.2',
          faults: { breakChecksum: { subvariant: 'Container_Minimal_Base', arch: 'aarch64' } },
        },
        { dir, storage: storage() },
      );
      await inWorker(settings, async ({ taskQueue }) => {
        const workflowId = `publish:${compose.composeId}:isolated`;
        const error = await runPublish(
          env,
          taskQueue,
          { location: compose.root, composeId: compose.composeId },
          workflowId,
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkflowFailedError);
        const failure = (error as WorkflowFailedError).cause as {
          type?: string;
          message: string;
          cause?: { type?: string };
        };
        expect(failure.type).toBe('ChecksumMismatch');
        expect(failure.message).toMatch(/^fedora-minimal: .*sha256 is [0-9a-f]{64} but images\.json says/);
        expect(failure.cause?.type).toBe('ChecksumMismatch');
        const status = await env.client.workflow.getHandle(workflowId).query(statusQuery);
        expect(status.repositories.map((r) => [r.repository, r.decision])).toEqual([
          ['fedora', 'pass'],
          ['fedora-minimal', 'failed'],
        ]);
        expect(status.repositories[1]!.error).toMatch(/sha256 is [0-9a-f]{64} but images\.json says/);
        await recordHistory(env.client.workflow.getHandle(workflowId), 'failed-in-activity');
      });
      expect(await indexAt(`${registry}/fedora:40`)).toMatchObject({ kind: 'index', arches: ['amd64', 'arm64'] });
      for (const tag of ['40', '40-x86_64', '40-aarch64']) {
        expect(await inspectRemote(`${registry}/fedora-minimal:${tag}`, anonymous)).toEqual({ kind: 'absent' });
      }
    });

    it('an arch the config does not map', async () => {
      const settings = testSettings();
      const compose = await makeCompose(
        { composeId: 'Fedora-40-20240506.n.0', images: { Container_Base: ['x86_64', 'riscv64'] }, format: '2.0' },
        { dir, storage: storage() },
      );
      await inWorker(settings, async ({ taskQueue }) => {
        const error = await runPublish(env, taskQueue, { location: compose.root, composeId: compose.composeId }).catch(
          (e: unknown) => e,
        );
        const cause = (error as WorkflowFailedError).cause?.cause as { type?: string; message: string };
        expect(cause.type).toBe('UnmappedArchitecture');
        expect(cause.message).toContain('riscv64');
        // The run's own failure (what the UI shows first) is the cause, not "Activity task failed".
        expect((error as WorkflowFailedError).cause).toMatchObject({
          type: 'UnmappedArchitecture',
          message: cause.message,
        });
        expect(cause.message).toContain('[architectures]');
      });
      expect(await inspectRemote(`${settings.registries[0]!.url}/fedora:40-x86_64`, anonymous)).toEqual({
        kind: 'absent',
      });
    });
  });
});
