import { join } from 'node:path';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishSettings } from '../../src/domain/settings.js';
import { inspectRemote, type IndexEntry } from '../../src/tools/skopeo.js';
import { overrideSignal, overrideUpdate } from '../../src/workflows/messages.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { recordHistory } from '../support/histories.js';
import {
  runPublish,
  testSettings,
  withPublisherWorker,
  type PublisherHarness,
  untilPhase,
} from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const anonymous = { tlsVerify: false };
const FULL = ['x86_64', 'aarch64'];

describe('operator control of a blocked repository', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  const composes = new Map<string, MadeCompose>();

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('operators');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  async function compose(composeId: string, arches: string[]): Promise<MadeCompose> {
    const key = `${composeId}:${arches.join(',')}`;
    if (!composes.has(key)) {
      composes.set(
        key,
        await makeCompose(
          { composeId, images: { Container_Base: arches }, format: '1.2' },
          { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
        ),
      );
    }
    return composes.get(key)!;
  }

  const inWorker = <T>(settings: PublishSettings, body: (harness: PublisherHarness) => Promise<T>) =>
    withPublisherWorker(env, dir, body, { settings });

  function settingsFor(waitForOverride = '5m'): PublishSettings {
    return testSettings({ repositories: { Container_Base: 'fedora' }, waitForOverride });
  }

  async function indexOf(settings: PublishSettings): Promise<{ digest: string; instances: IndexEntry[] }> {
    const index = await inspectRemote(`${settings.registries[0]!.url}/fedora:40`, anonymous);
    if (index.kind !== 'index') throw new Error(`expected an index, found ${index.kind}`);
    return {
      digest: index.digest,
      instances: [...index.instances].sort((a, b) => a.architecture.localeCompare(b.architecture)),
    };
  }

  async function startRun(
    taskQueue: string,
    made: MadeCompose,
    settings: PublishSettings,
    suffix: string,
  ): Promise<WorkflowHandle<typeof publishCompose>> {
    return env.client.workflow.start(publishCompose, {
      taskQueue,
      workflowId: `publish:${made.composeId}:${suffix}`,
      args: [{ location: made.root, composeId: made.composeId }],
    });
  }

  /** Publishes a full compose, then starts a compose that lacks aarch64 and waits until it awaits an override. */
  async function blockedRun(taskQueue: string, settings: PublishSettings, name: string) {
    const old = await compose('Fedora-40-20240901.n.0', FULL);
    await runPublish(env, taskQueue, { location: old.root, composeId: old.composeId });
    const before = await indexOf(settings);
    const partial = await compose('Fedora-40-20240902.n.0', ['x86_64']);
    const handle = await startRun(taskQueue, partial, settings, name);
    const status = await untilPhase(handle, 'awaiting-override');
    expect(status.repositories[0]).toMatchObject({ repository: 'fedora', decision: 'blocked', missing: ['arm64'] });
    expect(status.repositories[0]!.awaitingOverrideUntil).toBeDefined();
    return { old, partial, before, handle };
  }

  const request = (mode: 'hybrid' | 'publish-available' | 'skip') => ({
    mode,
    reason: 'aarch64 build failed; tracked in releng#1234',
    operator: 'alice',
  });

  it('hybrid: the new images plus the published instance of the missing arch, with its old digest and compose id', async () => {
    const settings = settingsFor();
    await inWorker(settings, async ({ taskQueue }) => {
      const { old, partial, before, handle } = await blockedRun(taskQueue, settings, 'hybrid');
      const records = await handle.executeUpdate(overrideUpdate, { args: [request('hybrid')] });
      expect(records).toEqual([expect.objectContaining({ repository: 'fedora', mode: 'hybrid', operator: 'alice' })]);
      const result = await handle.result();
      await recordHistory(handle, 'hybrid-override');
      expect(result.repositories[0]).toMatchObject({
        decision: 'overridden',
        override: { mode: 'hybrid', operator: 'alice', reason: request('hybrid').reason },
      });

      const after = await indexOf(settings);
      const oldArm64 = before.instances.find((i) => i.architecture === 'arm64')!;
      expect(after.instances.map((i) => [i.architecture, i.annotations['org.fedoraproject.compose.id']])).toEqual([
        ['amd64', partial.composeId],
        ['arm64', old.composeId],
      ]);
      expect(after.instances[1]!.digest).toBe(oldArm64.digest);
      expect(after.instances[0]!.digest).toBe(result.repositories[0]!.pushed[0]!.digest);

      const description = await handle.describe();
      expect(description.searchAttributes.GateDecision).toEqual(['overridden']);
      expect(description.memo?.gate).toEqual([
        expect.objectContaining({
          decision: 'overridden',
          override: expect.objectContaining({ mode: 'hybrid', operator: 'alice' }) as unknown,
        }),
      ]);
    });
  });

  it('publish-available drops exactly the missing arch; skip leaves the index as it was', async () => {
    const dropping = settingsFor();
    const skipping = settingsFor();
    await inWorker(dropping, async ({ taskQueue }) => {
      const drop = await blockedRun(taskQueue, dropping, 'publish-available');
      await drop.handle.executeUpdate(overrideUpdate, {
        args: [{ ...request('publish-available'), repository: 'fedora' }],
      });
      const dropped = await drop.handle.result();
      expect(dropped.repositories[0]).toMatchObject({ decision: 'overridden', dropped: ['arm64'] });
      expect((await indexOf(dropping)).instances.map((i) => i.architecture)).toEqual(['amd64']);
    });
    await inWorker(skipping, async ({ taskQueue }) => {
      const skip = await blockedRun(taskQueue, skipping, 'skip');
      await skip.handle.executeUpdate(overrideUpdate, { args: [request('skip')] });
      const skipped = await skip.handle.result();
      expect(skipped.repositories[0]).toMatchObject({ decision: 'skipped', override: { mode: 'skip' }, manifests: [] });
      expect((await indexOf(skipping)).digest).toBe(skip.before.digest);
    });
  });

  it('rejects invalid updates without writing to history, keeps rejected signals in status, and accepts a valid signal', async () => {
    const settings = settingsFor();
    await inWorker(settings, async ({ taskQueue }) => {
      const { handle } = await blockedRun(taskQueue, settings, 'validation');
      const eventsBefore = (await handle.fetchHistory()).events?.length;
      const invalid = [
        { ...request('hybrid'), mode: 'everything' },
        { ...request('hybrid'), reason: '  ' },
        { ...request('hybrid'), repository: 'no-such-repository' },
        { ...request('hybrid'), reason: 'ok\n2026-12-02T00:00:00Z fedora: hybrid by root: forged audit line' },
        { ...request('hybrid'), operator: 'alice\u001b[2J' },
        { ...request('hybrid'), reason: 'x'.repeat(501) },
      ];
      for (const bad of invalid) {
        const error = await handle
          .executeUpdate(overrideUpdate, { args: [bad as ReturnType<typeof request>] })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(WorkflowUpdateFailedError);
        expect((error as WorkflowUpdateFailedError).cause?.message).toMatch(/^override rejected: /);
      }
      expect((await handle.fetchHistory()).events?.length).toBe(eventsBefore);

      await handle.signal(overrideSignal, { ...request('hybrid'), reason: '' });
      await handle.signal(overrideSignal, { ...request('hybrid'), operator: 'mallory\nalice' });
      await handle.signal(overrideSignal, request('hybrid'));
      const result = await handle.result();
      expect(result.rejectedOverrides).toEqual([
        expect.objectContaining({ reason: expect.stringContaining('reason is empty') as unknown }),
        expect.objectContaining({ reason: expect.stringContaining('operator holds a newline') as unknown }),
      ]);
      expect((await handle.describe()).memo?.rejectedOverrides).toEqual(result.rejectedOverrides);
      expect(result.repositories[0]).toMatchObject({ decision: 'overridden', override: { mode: 'hybrid' } });
      await recordHistory(handle, 'signal-overrides');
    });
  });

  it('ends blocked with the index untouched when no override comes before the wait ends', async () => {
    const settings = settingsFor('2s');
    await inWorker(settings, async ({ taskQueue }) => {
      const old = await compose('Fedora-40-20240901.n.0', FULL);
      await runPublish(env, taskQueue, { location: old.root, composeId: old.composeId });
      const before = await indexOf(settings);
      const partial = await compose('Fedora-40-20240902.n.0', ['x86_64']);
      const result = await runPublish(env, taskQueue, { location: partial.root, composeId: partial.composeId });
      expect(result.repositories[0]).toMatchObject({ decision: 'blocked', waitEnded: true, manifests: [] });
      expect((await indexOf(settings)).digest).toBe(before.digest);
    });
  });

  it('an older compose overridden after a newer one was published is superseded and writes nothing', async () => {
    const settings = settingsFor();
    await inWorker(settings, async ({ taskQueue }) => {
      const { handle } = await blockedRun(taskQueue, settings, 'late');
      const newer = await compose('Fedora-40-20240903.n.0', FULL);
      await runPublish(env, taskQueue, { location: newer.root, composeId: newer.composeId });
      const published = await indexOf(settings);
      expect(published.instances.map((i) => i.annotations['org.fedoraproject.compose.id'])).toEqual([
        newer.composeId,
        newer.composeId,
      ]);

      await handle.executeUpdate(overrideUpdate, { args: [request('hybrid')] });
      const result = await handle.result();
      expect(result.repositories[0]).toMatchObject({
        decision: 'superseded',
        newerComposeId: newer.composeId,
        manifests: [],
      });
      expect((await indexOf(settings)).digest).toBe(published.digest);
    });
  });

  it('two composes of one release started together never leave the older one published', async () => {
    const settings = settingsFor();
    await inWorker(settings, async ({ taskQueue }) => {
      const older = await compose('Fedora-40-20240904.n.0', FULL);
      const newer = await compose('Fedora-40-20240905.n.0', FULL);
      const [a, b] = await Promise.all([
        startRun(taskQueue, older, settings, 'race'),
        startRun(taskQueue, newer, settings, 'race'),
      ]);
      const [olderResult] = await Promise.all([a.result(), b.result()]);
      expect(['pass', 'superseded']).toContain(olderResult.repositories[0]!.decision);
      const published = await indexOf(settings);
      expect(published.instances.map((i) => i.annotations['org.fedoraproject.compose.id'])).toEqual([
        newer.composeId,
        newer.composeId,
      ]);
    });
  });
});
