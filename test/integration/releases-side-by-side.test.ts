// Composes of two releases publish at once: each repository and release has its own lock, so fedora:36 does not
// wait for fedora:35 (before the lock-per-release patch, one lock per repository made them take turns).
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { temporal } from '@temporalio/proto';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { COMPOSE_ID_ANNOTATION } from '../../src/domain/types.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose } from '../support/compose-factory.js';
import { recordHistory } from '../support/histories.js';
import { testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const EventType = temporal.api.enums.v1.EventType;
/** From its first arch tag write to the end of its last index write (ms since epoch): both happen under its locks. */
async function lockedWindow(handle: WorkflowHandle): Promise<{ start: number; end: number }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const at = (event: (typeof events)[number]) =>
    Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;
  const scheduled = new Map<string, { type: string; time: number }>();
  const spans: Array<{ type: string; start: number; end: number }> = [];
  for (const event of events) {
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
      const type = event.activityTaskScheduledEventAttributes?.activityType?.name ?? '';
      scheduled.set(String(event.eventId), { type, time: at(event) });
    }
    if (event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const start = scheduled.get(String(event.activityTaskCompletedEventAttributes?.scheduledEventId));
      if (start) spans.push({ type: start.type, start: start.time, end: at(event) });
    }
  }
  return {
    start: Math.min(...spans.filter((span) => span.type === 'tagArchImages').map((span) => span.start)),
    end: Math.max(...spans.filter((span) => span.type === 'writeIndex').map((span) => span.end)),
  };
}

describe('two releases at once', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('side-by-side');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('publish side by side, each to its own index, under locks of their own releases', async () => {
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    const [older, newer] = await Promise.all(
      ['Fedora-35-20261203.0', 'Fedora-36-20261203.0'].map((composeId) =>
        makeCompose({ composeId, images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' }, { dir, storage }),
      ),
    );
    const registry = `${inject('registryHost')}/s${randomUUID().slice(0, 8)}`;
    const settings = testSettings({
      registries: [{ url: registry, tlsVerify: false }],
      repositories: { Container_Base: 'fedora' },
      releases: { latest: '36', rawhide: '37' },
      maxParallelPushes: 4,
    });
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const handles = await Promise.all(
          [older!, newer!].map((made) =>
            env.client.workflow.start(publishCompose, {
              taskQueue,
              workflowId: `publish:${made.composeId}:${randomUUID()}`,
              args: [{ location: made.root, composeId: made.composeId }],
            }),
          ),
        );
        const results = await Promise.all(handles.map((handle) => handle.result()));
        expect(results.map((result) => result.repositories.map((r) => `${r.repository} ${r.decision}`))).toEqual([
          ['fedora pass'],
          ['fedora pass'],
        ]);
        await recordHistory(handles[1]!, 'releases-side-by-side');

        const [a, b] = await Promise.all(handles.map(lockedWindow));
        // Each ran its arch tag and index writes while the other was running its own.
        expect(a!.start < b!.end && b!.start < a!.end, JSON.stringify({ a, b })).toBe(true);
      },
      { settings },
    );

    for (const [tag, composeId] of [
      ['35', older!.composeId],
      ['36', newer!.composeId],
      ['latest', newer!.composeId],
    ] as const) {
      const index = await inspectRemote(`${registry}/fedora:${tag}`, { tlsVerify: false });
      expect(index.kind, tag).toBe('index');
      if (index.kind !== 'index') continue;
      expect(
        index.instances.map((instance) => `${instance.architecture} ${instance.annotations[COMPOSE_ID_ANNOTATION]}`),
      ).toEqual([`amd64 ${composeId}`, `arm64 ${composeId}`]);
      for (const arch of ['x86_64', 'aarch64']) {
        const archImage = await inspectRemote(`${registry}/fedora:${tag === 'latest' ? '36' : tag}-${arch}`, {
          tlsVerify: false,
        });
        expect(index.instances.map((instance) => instance.digest)).toContain(
          archImage.kind === 'absent' ? null : archImage.digest,
        );
      }
    }
  }, 240_000);
});
