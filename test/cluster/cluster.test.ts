import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ScheduleOverlapPolicy, type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPublishRun, type StartedRun } from '../../src/client/publish-runs.js';
import { loadConfig } from '../../src/config.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/run-contract/search-attributes.js';
import { statusQuery } from '../../src/workflows/messages.js';
import { type PublishStatus } from '../../src/domain/run-contract/index.js';
import type { publishCompose } from '../../src/workflows/publish-compose.js';
import { cli } from '../support/cli.js';
import { makeCompose, serveCompose } from '../support/compose-factory.js';
import {
  endedAttempts,
  pidsSendingBlobs,
  startWorkerProcess,
  stopWorkerProcess,
  until,
  untilPending,
  withCleanups,
  withLargeImages,
  type WorkerProcess,
} from '../support/faults.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';
import { clusterUp, killService, readClusterState, type ClusterService, type ClusterState } from './support/cluster.js';
import {
  composeImages,
  expectIndexWrittenOncePerChange,
  expectRelease,
  logOffset,
  tagWrites,
  type ComposeImage,
} from './support/end-state.js';
import { writeClusterWorkerConfig } from './support/worker-config.js';

/** The activities that copy an arch image to the registries. */
const ARCH_IMAGE_COPIES = ['uploadArchImage', 'pushArchImage'];
/** Activities without a heartbeat timeout: one lost with its worker is retried only after its start-to-close timeout. */
const SHORT_ACTIVITIES = ['workerSettings', 'fetchCompose', 'inspectPublished', 'notify', 'cleanup'];
/** Large enough that a push lasts a moment, so a worker can be killed in the middle of one. */
const LARGE_IMAGE_MIB = 48;
/** How long the slow compose host holds each image download, so runs stay in prepareImage meanwhile. */
const SLOW_DOWNLOAD_MS = 20_000;
/** How long a killed service or worker stays down before it is started again. */
const PAUSE_MS = 5_000;

type Run = WorkflowHandle<typeof publishCompose>;

/** Prints how long a fault cost (quoted in docs/deployment.md), and keeps it for the summary. */
const recoveries: string[] = [];
function recovery(fault: string, since: number): number {
  const seconds = (Date.now() - since) / 1000;
  const line = `RECOVERY ${fault}: ${seconds.toFixed(1)} s`;
  console.log(line);
  recoveries.push(line);
  return seconds;
}

/** A run's end, waited for while a Temporal service may be down: every call may fail until it is back. */
async function finished(handle: Run, timeoutMs = 240_000): Promise<PublishStatus> {
  await until(
    `${handle.workflowId} to end`,
    async () => {
      const description = await handle.describe().catch(() => undefined);
      return description !== undefined && description.status.name !== 'RUNNING';
    },
    timeoutMs,
    250,
  );
  return handle.result();
}

describe.sequential(
  'a Temporal cluster (PostgreSQL, frontend, history, matching and worker as processes) with three workers',
  () => {
    let env: TestWorkflowEnvironment;
    let cluster: ClusterState;
    let dir: string;
    let configs: string[];
    let homes: string[];
    const workers: Array<WorkerProcess | undefined> = [];
    // The cluster keeps its runs between suites (PostgreSQL): ids of this suite's own, respins no earlier suite used.
    const taskQueue = `cluster-${randomUUID().slice(0, 8)}`;
    const respin = 100 + Math.floor(Math.random() * 99_000);
    const registryNamespace = `cluster-${randomUUID().slice(0, 6)}`;
    const registries = () => inject('registryHosts').map((host) => `${host}/${registryNamespace}`);
    const runs: Run[] = [];
    const storage = () => ({ root: join(dir, 'storage'), runroot: join(dir, 'run') });
    const make = (composeId: string, arches = ['x86_64', 'aarch64'], format: '1.2' | '2.0' = '2.0') =>
      makeCompose({ composeId, images: { Container_Base: arches }, format }, { dir, storage: storage() });

    /** Starts publish:<compose id> as `compose-publisher publish` does. */
    async function publish(location: string): Promise<StartedRun> {
      const run = await startPublishRun(env.client, loadConfig(configs[0]!), location);
      expect(run.started).toBe(true);
      runs.push(run.handle);
      return run;
    }

    /** Runs `body`, then returns the index tag writes each registry logged meanwhile. */
    async function countingWrites<T>(
      body: () => Promise<T>,
    ): Promise<{ result: T; writes: Array<Map<string, number>> }> {
      const logs = inject('registryLogs');
      const offsets = logs.map(logOffset);
      const result = await body();
      return { result, writes: logs.map((log, i) => tagWrites(log, offsets[i]!, registryNamespace)) };
    }

    /** On both registries: release 40 and 41 (also "latest") serve exactly these images and indexes, each index written once per change. */
    async function expectRegistries(
      expected: {
        f40?: { archTags: ComposeImage[]; instances: ComposeImage[] };
        f41?: { archTags: ComposeImage[]; instances: ComposeImage[] };
      },
      writes: Array<Map<string, number>>,
      statuses: PublishStatus[],
    ) {
      for (const [i, registry] of registries().entries()) {
        for (const [version, release] of [
          ['40', expected.f40],
          ['41', expected.f41],
        ] as const) {
          if (!release) continue;
          const indexTags = version === '41' ? ['41', 'latest'] : ['40'];
          const digest = await expectRelease(registry, { version, indexTags, ...release });
          for (const tag of indexTags) expectIndexWrittenOncePerChange(writes[i]!, registry, tag, statuses, digest);
        }
      }
    }

    /** A service killed mid-run (while image downloads are held by a slow compose host), started again after PAUSE_MS. */
    async function killedMidRun(service: ClusterService, day: string) {
      const composes = await Promise.all([make(`Fedora-40-${day}.n.${respin}`), make(`Fedora-41-${day}.n.${respin}`)]);
      return withCleanups(async (defer) => {
        const hosts = await Promise.all(composes.map((compose) => serveCompose(compose.root, { slowImagesMs: 2_000 })));
        for (const host of hosts) defer(() => host.close());
        const { result, writes } = await countingWrites(async () => {
          const started = await Promise.all(hosts.map((host) => publish(host.url.replace(/\/$/, ''))));
          const runIds = await Promise.all(started.map(async (run) => (await run.handle.describe()).runId));
          // Both runs are downloading (heartbeating activities). A short activity in flight instead (fetchCompose, no
          // heartbeat) whose completion the outage swallows is retried only after its 5-minute start-to-close timeout.
          for (const run of started)
            await untilPending(run.handle, 'prepareImage', (activity) => activity.started && activity.attempt === 1);
          const killedAt = await killService(cluster.runDir, service);
          await sleep(PAUSE_MS);
          await clusterUp();
          console.log(`  ${service} back ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
          const statuses = await Promise.all(started.map((run) => finished(run.handle)));
          const seconds = recovery(
            `${service} service SIGKILLed mid-run, restarted after ${PAUSE_MS / 1000} s (both runs done)`,
            killedAt,
          );
          // The same runs went on: their histories survived in PostgreSQL.
          expect(await Promise.all(started.map(async (run) => (await run.handle.describe()).runId))).toEqual(runIds);
          return { statuses, seconds };
        });
        for (const status of result.statuses) {
          expect(status.phase, JSON.stringify(status)).toBe('done');
          expect(status.repositories).toMatchObject([
            { repository: 'fedora', decision: 'pass', built: ['amd64', 'arm64'], missing: [] },
          ]);
        }
        const [f40, f41] = await Promise.all(composes.map(composeImages));
        await expectRegistries(
          { f40: { archTags: f40!, instances: f40! }, f41: { archTags: f41!, instances: f41! } },
          writes,
          result.statuses,
        );
        return { composes, images: { f40: f40!, f41: f41! } };
      });
    }

    beforeAll(async () => {
      cluster = readClusterState();
      env = await connectTestEnvironment();
      dir = scratchSubdir('cluster');
      homes = ['a', 'b', 'c'].map((name) => join(dir, `worker-${name}`));
      configs = homes.map((home) => writeClusterWorkerConfig(home, { taskQueue, registryNamespace }));
      const started = await Promise.allSettled(configs.map((config) => startWorkerProcess(config)));
      for (const outcome of started) workers.push(outcome.status === 'fulfilled' ? outcome.value : undefined);
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    });

    afterAll(async () => {
      if (env) await endLeftovers();
      await Promise.allSettled(workers.map((worker) => stopWorkerProcess(worker)));
      await env?.teardown();
      console.log(['cluster suite recoveries:', ...recoveries].join('\n  '));
    });

    /**
     * The cluster outlives the suite: a failed test may leave a run waiting (for an override, a retry), and the
     * repository locks of this suite's registries wait for holders as long as nobody stops them. End them all.
     */
    async function endLeftovers(): Promise<void> {
      await Promise.allSettled(runs.map((handle) => handle.terminate('cluster suite ended')));
      try {
        for await (const lock of env.client.workflow.list({
          query: `TaskQueue = "${taskQueue}" AND WorkflowType = "repositoryLock" AND ExecutionStatus = "Running"`,
        })) {
          await env.client.workflow.getHandle(lock.workflowId, lock.runId).terminate('cluster suite ended');
        }
      } catch (error) {
        console.error('could not end the repository locks of this suite:', error);
      }
    }

    let f41Latest: ComposeImage[] = [];

    it('publishes composes of one release and of two releases on three workers; one worker SIGKILLed mid-push and replaced after a pause', async () => {
      const large = await withLargeImages(
        await make(`Fedora-40-20261121.n.${respin}`, ['x86_64', 'aarch64'], '1.2'),
        LARGE_IMAGE_MIB,
        { dir, storage: storage() },
      );
      const [f40, f41] = await Promise.all([
        make(`Fedora-40-20261121.n.${respin + 1}`),
        make(`Fedora-41-20261121.n.${respin}`),
      ]);
      const { result, writes } = await withCleanups(async (defer) => {
        // The two small composes come from a slow compose host: their runs sit in prepareImage (heartbeating) meanwhile.
        const hosts = await Promise.all(
          [f40, f41].map((compose) => serveCompose(compose.root, { slowImagesMs: SLOW_DOWNLOAD_MS })),
        );
        for (const host of hosts) defer(() => host.close());
        return countingWrites(async () => {
          const first = await publish(large.root);
          const others = await Promise.all(hosts.map((host) => publish(host.url.replace(/\/$/, ''))));
          // Killed only while no run has a SHORT_ACTIVITIES one pending: one lost with its worker is retried only after
          // its start-to-close timeout (up to 5 minutes, docs/deployment.md). Downloads and pushes heartbeat: 20 s.
          for (const run of others)
            await untilPending(
              run.handle,
              'prepareImage',
              (activity) => activity.started && activity.attempt === 1,
              120_000,
            );
          // A push in flight on one worker (it is sending a blob from its own work dir), while no run waits on a short one.
          const victim = await until(
            'a push in flight on a worker, and no short activity pending',
            async () => {
              const index = homes.findIndex((home) => pidsSendingBlobs(join(home, 'work')).length > 0);
              if (index < 0) return undefined;
              const pending = await Promise.all(
                [first, ...others].map(async (run) => (await run.handle.describe()).raw.pendingActivities ?? []),
              );
              return pending.flat().some((activity) => SHORT_ACTIVITIES.includes(activity.activityType?.name ?? ''))
                ? undefined
                : index;
            },
            120_000,
            20,
          );
          const killed = workers[victim]!;
          killed.child.kill('SIGKILL');
          await killed.child;
          const killedAt = Date.now();
          await sleep(PAUSE_MS);
          workers[victim] = await startWorkerProcess(configs[victim]!);
          const statuses = await Promise.all([first, ...others].map((run) => run.handle.result()));
          recovery(
            `one of three workers SIGKILLed mid-push, replaced after ${PAUSE_MS / 1000} s (all three runs done)`,
            killedAt,
          );
          const pushes = (
            await Promise.all([first, ...others].map((run) => endedAttempts(run.handle, ARCH_IMAGE_COPIES)))
          ).flat();
          return { statuses, pushes, killedPid: killed.pid };
        });
      });
      const [large40, newer40, only41] = result.statuses as [PublishStatus, PublishStatus, PublishStatus];
      for (const status of result.statuses) expect(status.phase, JSON.stringify(status)).toBe('done');
      // The killed push was retried elsewhere once the heartbeat timeout noticed the loss.
      const retried = result.pushes.filter((push) => push.attempt >= 2);
      expect(retried.length, JSON.stringify(result.pushes)).toBeGreaterThanOrEqual(1);
      for (const push of retried) {
        expect(push.identity).not.toMatch(new RegExp(`^${result.killedPid}@`));
        expect(push.lastFailure).toMatch(/heartbeat/i);
      }
      console.log(`  failed attempt: ${retried[0]!.lastFailure}`);
      // Whichever order the two composes of release 40 finished in, the newer one is what 40 serves.
      expect(['pass', 'superseded']).toContain(large40.repositories[0]!.decision);
      expect(newer40.repositories[0]).toMatchObject({ decision: 'pass', built: ['amd64', 'arm64'] });
      expect(only41.repositories[0]).toMatchObject({ decision: 'pass', built: ['amd64', 'arm64'] });
      const [images40, images41] = await Promise.all([composeImages(f40), composeImages(f41)]);
      await expectRegistries(
        { f40: { archTags: images40, instances: images40 }, f41: { archTags: images41, instances: images41 } },
        writes,
        result.statuses,
      );
    });

    it('the history service SIGKILLed mid-run and restarted after a pause: the runs go on and publish once', async () => {
      await killedMidRun('history', '20261122');
    });

    it('the matching service SIGKILLed mid-run and restarted after a pause: the runs go on and publish once', async () => {
      const { images } = await killedMidRun('matching', '20261123');
      f41Latest = images.f41;
    });

    it('a blocked compose overridden (hybrid) by an operator while the frontend restarts', async () => {
      expect(f41Latest, 'the matching test published release 41 first').toHaveLength(2);
      const blocked = await make(`Fedora-41-20261124.n.${respin}`, ['x86_64']);
      const { result, writes } = await countingWrites(async () => {
        const run = await publish(blocked.root);
        await until(
          'fedora to be blocked',
          async () => {
            const status = await run.handle.query(statusQuery);
            return status.phase === 'awaiting-override' && status.repositories[0]?.decision === 'blocked'
              ? status
              : undefined;
          },
          120_000,
          250,
        );
        const killedAt = await killService(cluster.runDir, 'frontend');
        const restarted = sleep(PAUSE_MS).then(() => clusterUp());
        // The operator retries `compose-publisher override` until the frontend takes it.
        const refusals: string[] = [];
        let overriddenAt = 0;
        await until(
          'the override to be accepted',
          async () => {
            const attempt = await cli(
              [
                'override',
                blocked.composeId,
                '--mode',
                'hybrid',
                '--reason',
                'aarch64 failed in this compose; keep the published one',
                '--operator',
                'cluster-test',
              ],
              configs[0],
            );
            if (attempt.exitCode === 0) {
              overriddenAt = Date.now();
              return true;
            }
            refusals.push(`exit ${attempt.exitCode}: ${attempt.stderr.split('\n')[0]}`);
            return false;
          },
          120_000,
          1_000,
        );
        await restarted;
        recovery(
          `frontend SIGKILLed while a run awaited an override, restarted after ${PAUSE_MS / 1000} s (override accepted)`,
          killedAt,
        );
        const status = await finished(run.handle);
        recovery(
          `frontend SIGKILLed while a run awaited an override, restarted after ${PAUSE_MS / 1000} s (run done)`,
          killedAt,
        );
        return { status, refusals, overriddenAt, killedAt };
      });
      // The override went through only once the frontend was back; an attempt the outage refused said so, naming the address.
      expect(result.overriddenAt - result.killedAt).toBeGreaterThanOrEqual(PAUSE_MS);
      for (const refusal of result.refusals)
        expect(refusal).toMatch(new RegExp(`^exit 1: .*cannot reach Temporal at ${cluster.address}`));
      console.log(
        `  override accepted on attempt ${result.refusals.length + 1}${result.refusals.length ? `; the first refusal: ${result.refusals[0]}` : ' (the CLI waited for the frontend)'}`,
      );
      expect(result.status.phase).toBe('done');
      expect(result.status.repositories[0]).toMatchObject({
        repository: 'fedora',
        decision: 'overridden',
        built: ['amd64'],
        missing: ['arm64'],
        override: { mode: 'hybrid', operator: 'cluster-test' },
      });
      // Hybrid: the new amd64 image, and the arm64 image the previous compose published, with its compose id.
      const [amd64] = await composeImages(blocked);
      const arm64 = f41Latest.find((image) => image.ociArch === 'arm64')!;
      await expectRegistries({ f41: { archTags: [amd64!, arm64], instances: [amd64!, arm64] } }, writes, [
        result.status,
      ]);
    });

    it("Temporal's own worker service SIGKILLed and restarted after a pause: schedules fire again, a batch operation (a system workflow) completes", async () => {
      // A schedule every 2 s that starts a workflow no worker runs (on a task queue of its own): the scheduler is a
      // system workflow of the worker service, so its actions stop with it and must resume once it is back.
      const schedule = await env.client.schedule.create({
        scheduleId: `cluster-suite-${taskQueue}`,
        spec: { intervals: [{ every: '2s' }] },
        action: {
          type: 'startWorkflow',
          workflowType: 'clusterSuiteTick',
          taskQueue: `${taskQueue}-ticks`,
          args: [],
          workflowExecutionTimeout: '5 minutes',
        },
        policies: { overlap: ScheduleOverlapPolicy.ALLOW_ALL, catchupWindow: '1 minute' },
      });
      try {
        const taken = async () => (await schedule.describe().catch(() => undefined))?.info;
        await until(
          'the schedule to take an action',
          async () => ((await taken())?.numActionsTaken ?? 0) > 0,
          60_000,
          500,
        );
        const killedAt = await killService(cluster.runDir, 'worker');
        const atKill = (await taken())?.numActionsTaken ?? 0;
        await sleep(PAUSE_MS);
        await clusterUp();
        const backAt = Date.now();
        const duringOutage = ((await taken())?.numActionsTaken ?? 0) - atKill;
        console.log(
          `  worker service back ${((backAt - killedAt) / 1000).toFixed(1)} s after the kill; actions taken while it was down: ${duringOutage}`,
        );
        await until(
          'the schedule to take an action after the restart',
          async () => (await taken())?.recentActions.some((action) => action.takenAt.getTime() >= backAt),
          120_000,
          250,
        );
        recovery(
          `Temporal worker service SIGKILLed, restarted after ${PAUSE_MS / 1000} s (the schedule fires again)`,
          killedAt,
        );
        // A batch operation runs as a system workflow on the worker service: it terminates every tick the schedule started.
        const jobId = `cluster-suite-${randomUUID()}`;
        const namespace = inject('temporalNamespace');
        await env.client.workflowService.startBatchOperation({
          namespace,
          jobId,
          reason: 'cluster suite: the ticks of its schedule',
          visibilityQuery: `WorkflowType = "clusterSuiteTick" AND TaskQueue = "${taskQueue}-ticks" AND ExecutionStatus = "Running"`,
          terminationOperation: {},
        });
        const batch = await until(
          'the batch operation to complete',
          async () => {
            const description = await env.client.workflowService
              .describeBatchOperation({ namespace, jobId })
              .catch(() => undefined);
            return description?.state === temporal.api.enums.v1.BatchOperationState.BATCH_OPERATION_STATE_COMPLETED
              ? description
              : undefined;
          },
          120_000,
          500,
        );
        recovery(
          `Temporal worker service SIGKILLed, restarted after ${PAUSE_MS / 1000} s (a batch operation done)`,
          killedAt,
        );
        console.log(
          `  batch operation terminated ${String(batch.completeOperationCount)} of ${String(batch.totalOperationCount)} ticks, ${String(batch.failureOperationCount)} failed`,
        );
        expect(Number(batch.completeOperationCount)).toBeGreaterThan(0);
        expect(Number(batch.failureOperationCount)).toBe(0);
      } finally {
        await schedule.delete().catch(() => undefined);
      }
    });

    it('every run finished, and ComposeId, Release and GateDecision work on the cluster as on the dev server', async () => {
      const { customAttributes } = await env.client.connection.operatorService.listSearchAttributes({
        namespace: inject('temporalNamespace'),
      });
      const typeName = (type: unknown) => temporal.api.enums.v1.IndexedValueType[Number(type)];
      for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
        expect(typeName(customAttributes?.[name]), name).toBe(
          `INDEXED_VALUE_TYPE_${type.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase()}`,
        );
      }
      expect(cluster.searchAttributes).toEqual(SEARCH_ATTRIBUTES);
      for (const handle of runs) expect((await handle.describe()).status.name, handle.workflowId).toBe('COMPLETED');
      const count = async (query: string) => {
        let n = 0;
        for await (const execution of env.client.workflow.list({
          query: `TaskQueue = "${taskQueue}" AND WorkflowType = "publishCompose" AND ${query}`,
        }))
          if (execution) n += 1;
        return n;
      };
      // Release is a keyword of the query language: quoted, as src/cli/commands/list.ts does.
      // Visibility is written asynchronously: wait until it caught up with the last run.
      await until(
        'visibility to list the overridden run',
        async () => (await count('GateDecision = "overridden"')) === 1,
        30_000,
        500,
      );
      expect(await count('ExecutionStatus = "Running"')).toBe(0);
      expect(await count('ExecutionStatus = "Completed"')).toBe(runs.length);
      expect(await count(`ComposeId = "Fedora-41-20261124.n.${respin}"`)).toBe(1);
      expect(await count('`Release` = "41"')).toBe(4);
      expect(await count('`Release` = "40"')).toBe(4);
      // Figures for docs/deployment.md: what one compose costs the cluster.
      for (const handle of runs) {
        const events = (await handle.fetchHistory()).events ?? [];
        const typeCount = (type: temporal.api.enums.v1.EventType) =>
          events.filter((event) => event.eventType === type).length;
        console.log(
          `FIGURES ${handle.workflowId}: ${events.length} history events, ${typeCount(temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED)} activity tasks, ${typeCount(temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED)} workflow tasks`,
        );
      }
    });
  },
);
