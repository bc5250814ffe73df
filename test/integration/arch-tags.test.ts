import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { PublishSettings } from '../../src/domain/settings.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { overrideUpdate } from '../../src/workflows/messages.js';
import { type PublishStatus } from '../../src/domain/run-contract/index.js';
import { repositoryLockId } from '../../src/workflows/repository-lock.js';
import { repositoryLockKey } from '../../src/domain/lock-keys.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { recordHistory } from '../support/histories.js';
import { testSettings, withPublisherWorker, type PublisherHarness, untilPhase } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const anonymous = { tlsVerify: false };
const FULL = ['x86_64', 'aarch64'];
const TAGS = ['40', 'latest', '40-x86_64', '40-aarch64'];

/** What one registry serves at every tag of the repository: digest, and for an index its arches, digests and compose ids. */
type RegistryState = Record<string, { digest: string | null; instances?: string[] }>;

describe('arch tags under the repository lock', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('arch-tags');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  const compose = (composeId: string, arches = FULL): Promise<MadeCompose> =>
    makeCompose(
      { composeId, images: { Container_Base: arches }, format: '1.2' },
      { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
    );

  /** Two registries (two namespaces of the harness registry), one repository. */
  function settingsFor(waitForOverride = '5m'): PublishSettings {
    const namespace = () => ({ url: `${inject('registryHost')}/a${randomUUID().slice(0, 8)}`, tlsVerify: false });
    return testSettings({
      registries: [namespace(), namespace()],
      repositories: { Container_Base: 'fedora' },
      waitForOverride,
    });
  }

  const inWorker = <T>(settings: PublishSettings, body: (harness: PublisherHarness) => Promise<T>) =>
    withPublisherWorker(env, dir, body, { settings });

  function start(taskQueue: string, made: MadeCompose): Promise<WorkflowHandle<typeof publishCompose>> {
    return env.client.workflow.start(publishCompose, {
      taskQueue,
      workflowId: `publish:${made.composeId}:${randomUUID()}`,
      args: [{ location: made.root, composeId: made.composeId }],
    });
  }

  async function registryState(registry: string): Promise<RegistryState> {
    const state: RegistryState = {};
    for (const tag of TAGS) {
      const remote = await inspectRemote(`${registry}/fedora:${tag}`, anonymous);
      state[tag] =
        remote.kind === 'index'
          ? {
              digest: remote.digest,
              instances: remote.instances
                .map((i) => `${i.architecture} ${i.digest} ${i.annotations['org.fedoraproject.compose.id']}`)
                .sort(),
            }
          : { digest: remote.kind === 'absent' ? null : remote.digest };
    }
    return state;
  }

  /** The state a compose that published everything leaves: its index on both tags, its images on the arch tags. */
  function publishedBy(result: PublishStatus): RegistryState {
    const digest = (arch: string) => result.repositories[0]!.pushed.find((pushed) => pushed.ociArch === arch)!.digest;
    const index = result.repositories[0]!.manifests[0]!.digest;
    const instances = [`amd64 ${digest('amd64')} ${result.composeId}`, `arm64 ${digest('arm64')} ${result.composeId}`];
    return {
      '40': { digest: index, instances },
      latest: { digest: index, instances },
      '40-x86_64': { digest: digest('amd64') },
      '40-aarch64': { digest: digest('arm64') },
    };
  }

  it('the same compose again does nothing; older composes started after a newer one is published are all superseded and write nothing', async () => {
    const settings = settingsFor();
    await inWorker(settings, async ({ taskQueue }) => {
      const newestCompose = await compose('Fedora-40-20250310.n.0');
      const newest = await (await start(taskQueue, newestCompose)).result();
      const before = await Promise.all(settings.registries.map((registry) => registryState(registry.url)));
      expect(before).toEqual([publishedBy(newest), publishedBy(newest)]);

      // The same compose again: a noop that uploads nothing, tags nothing and does not even take the lock.
      const again = await start(taskQueue, newestCompose);
      expect((await again.result()).repositories[0]).toMatchObject({ decision: 'noop', pushed: [], manifests: [] });
      const events = (await again.fetchHistory()).events ?? [];
      expect(
        events.flatMap((event) => event.activityTaskScheduledEventAttributes?.activityType?.name ?? []).sort(),
      ).toEqual(['cleanup', 'fetchCompose', 'inspectPublished', 'prepareImage', 'prepareImage', 'workerSettings']);
      expect(
        events.filter(
          (event) =>
            event.startChildWorkflowExecutionInitiatedEventAttributes ||
            event.signalExternalWorkflowExecutionInitiatedEventAttributes,
        ),
      ).toEqual([]);

      const older = await Promise.all(
        ['20250301', '20250302', '20250303', '20250304'].map((day) => compose(`Fedora-40-${day}.n.0`)),
      );
      const results = await Promise.all(
        (await Promise.all(older.map((made) => start(taskQueue, made)))).map((handle) => handle.result()),
      );
      for (const result of results) {
        expect(result.repositories[0]).toMatchObject({
          decision: 'superseded',
          newerComposeId: newest.composeId,
          pushed: [],
          manifests: [],
        });
      }
      expect(await Promise.all(settings.registries.map((registry) => registryState(registry.url)))).toEqual(before);
    });
  });

  it('composes of one release started together leave the index and every arch tag at the newest, on every registry', async () => {
    const settings = settingsFor();
    await inWorker(settings, async ({ taskQueue }) => {
      const days = ['20250311', '20250312', '20250313', '20250314', '20250315', '20250316'];
      const made = await Promise.all(days.map((day) => compose(`Fedora-40-${day}.n.0`)));
      const started = Date.now();
      const handles = await Promise.all([...made].reverse().map((m) => start(taskQueue, m)));
      const results = await Promise.all(handles.map((handle) => handle.result()));
      console.log(
        `${days.length} composes of one release published together in ${((Date.now() - started) / 1000).toFixed(1)} s`,
      );
      const newest = results.find((result) => result.composeId === made.at(-1)!.composeId)!;
      expect(newest.repositories[0]!.decision).toBe('pass');
      expect(await Promise.all(settings.registries.map((registry) => registryState(registry.url)))).toEqual([
        publishedBy(newest),
        publishedBy(newest),
      ]);
      for (const result of results) {
        const [repository] = result.repositories;
        expect(['pass', 'superseded']).toContain(repository!.decision);
        if (repository!.decision === 'superseded') expect(repository).toMatchObject({ pushed: [], manifests: [] });
      }
    });
  });

  it('an older compose arriving while a newer one is blocked moves the index and the arch tags the newer one did not write, and no tag goes back', async () => {
    const settings = settingsFor();
    await inWorker(settings, async ({ taskQueue }) => {
      const first = await (await start(taskQueue, await compose('Fedora-40-20250320.n.0'))).result();
      const [registry] = settings.registries.map((r) => r.url);

      // The newest compose lacks aarch64: blocked, waiting for an operator, its x86_64 tag written.
      const newer = await start(taskQueue, await compose('Fedora-40-20250322.n.0', ['x86_64']));
      const blocked = await untilPhase(newer, 'awaiting-override');
      expect(blocked.repositories[0]).toMatchObject({ decision: 'blocked', missing: ['arm64'] });
      const newerAmd64 = blocked.repositories[0]!.pushed.find((pushed) => pushed.ociArch === 'amd64')!.digest;
      expect((await registryState(registry!))['40-x86_64']!.digest).toBe(newerAmd64);

      // An older, complete compose: its index replaces the first one; 40-x86_64 stays on the newer compose's image.
      const older = await (await start(taskQueue, await compose('Fedora-40-20250321.n.0'))).result();
      const [olderRepository] = older.repositories;
      expect(olderRepository).toMatchObject({
        decision: 'pass',
        archTagsKept: settings.registries.map((r) => ({
          registry: r.url,
          tag: '40-x86_64',
          composeId: 'Fedora-40-20250322.n.0',
        })),
      });
      expect(olderRepository!.pushed.map((pushed) => pushed.ociArch)).toEqual(['arm64']);
      const olderIndex = await inspectRemote(`${registry}/fedora:40`, anonymous);
      expect(
        olderIndex.kind === 'index' && olderIndex.instances.map((i) => i.annotations['org.fedoraproject.compose.id']),
      ).toEqual([older.composeId, older.composeId]);
      const olderArm64 = olderRepository!.pushed[0]!.digest;
      expect(olderArm64).not.toBe(publishedBy(first)['40-aarch64']!.digest);

      // The operator lets the newer compose through with the older one's aarch64.
      await newer.executeUpdate(overrideUpdate, {
        args: [{ mode: 'hybrid', reason: 'aarch64 failed: releng#1', operator: 'alice' }],
      });
      const overridden = await newer.result();
      await recordHistory(newer, 'overridden-after-older-compose');
      await recordHistory(
        env.client.workflow.getHandle(
          repositoryLockId(
            repositoryLockKey({
              registries: settings.registries.map((r) => r.url),
              repository: 'fedora',
              release: '40',
              perRelease: true,
            }),
          ),
        ),
        'repository-lock',
      );
      expect(overridden.repositories[0]).toMatchObject({ decision: 'overridden' });
      for (const r of settings.registries) {
        const state = await registryState(r.url);
        expect(state['40']!.instances).toEqual([
          `amd64 ${newerAmd64} Fedora-40-20250322.n.0`,
          `arm64 ${olderArm64} ${older.composeId}`,
        ]);
        expect(state.latest).toEqual(state['40']);
        expect(state['40-x86_64']!.digest).toBe(newerAmd64);
        expect(state['40-aarch64']!.digest).toBe(olderArm64);
      }
    });
  });
});
