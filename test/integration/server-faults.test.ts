import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { NativeConnection } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPublishRun } from '../../src/client/publish-runs.js';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../../src/dev/free-port.js';
import { startRegistry } from '../../src/dev/registry-server.js';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server.js';
import type { PublishSettings, RegistrySettings } from '../../src/domain/settings.js';
import { createPublisherWorker } from '../../src/worker.js';
import { publishWorkflowId, type PublishStatus } from '../../src/domain/run-contract/index.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose, serveCompose, type MadeCompose, type MadeImage } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import {
  endedAttempts,
  killRunning,
  manifestDigestInArchive,
  openUploads,
  pidsSendingBlobs,
  readTag,
  serveFaultyCompose,
  startWorkerProcess,
  stopWorkerProcess,
  until,
  untilPending,
  withCleanups,
  withLargeImages,
  type WorkerProcess,
} from '../support/faults.js';
import { withPublisherWorker, workflowBundle } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

/** Every run here publishes Container_Base for two arches as fedora:40 (and fedora:latest). */
const ARCHES = { x86_64: 'amd64', aarch64: 'arm64' };
const INDEX_TAGS = ['40', 'latest'];
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/**
 * The activity that copies an arch image to the registries: uploadArchImage (by digest, tagged later under the
 * repository lock) since the repository-lock patch, pushArchImage (straight to the arch tag) before it.
 */
const ARCH_IMAGE_COPIES = ['uploadArchImage', 'pushArchImage'];
/** Large enough that one push takes most of a second on loopback, so it can be interrupted. */
const LARGE_IMAGE_MIB = 96;

/** A registry namespace no other test uses. */
const namespace = (name: string) => `server-faults-${name}-${randomUUID().slice(0, 6)}`;
const plainHttp = (url: string): RegistrySettings => ({ url, tlsVerify: false });

function settingsFor(registries: RegistrySettings[]): PublishSettings {
  return {
    registries,
    repositories: { Container_Base: 'fedora' },
    architectures: ARCHES,
    releases: { latest: '40' },
    waitForOverride: '3s',
    maxParallelPushes: 2,
  };
}

/** Where a compose host serves an image of `compose`: its path under the compose's top directory. */
const servedPath = (compose: MadeCompose, image: MadeImage) => `/${image.path.slice(compose.root.length + 1)}`;

/** Prints how long a fault cost, to be quoted. */
function recovery(fault: string, since: number): number {
  const seconds = (Date.now() - since) / 1000;
  console.log(`RECOVERY ${fault}: ${seconds.toFixed(1)} s`);
  return seconds;
}

/** Starts publish:<compose id> on `taskQueue`, as `compose-publisher publish` does. */
function startRun(
  client: Client,
  taskQueue: string,
  location: string,
  composeId: string,
): Promise<WorkflowHandle<typeof publishCompose>> {
  return client.workflow.start(publishCompose, {
    taskQueue,
    workflowId: publishWorkflowId(composeId),
    args: [{ location, composeId }],
  });
}

interface ExpectedImage {
  composeArch: string;
  ociArch: string;
  digest: string;
}

/** The manifest digest of each arch image, read from the compose's own files. */
async function expectedImages(compose: MadeCompose): Promise<ExpectedImage[]> {
  const images = await Promise.all(
    compose.images.map(async (image) => ({
      composeArch: image.composeArch,
      ociArch: image.ociArch,
      digest: await manifestDigestInArchive(image.path),
    })),
  );
  return images.sort((a, b) => a.ociArch.localeCompare(b.ociArch));
}

/** The run ended done, fedora passed with both arches, and what it reports pushing is what the compose holds. */
function expectPassed(status: PublishStatus, images: ExpectedImage[]): void {
  expect(status.phase).toBe('done');
  expect(status.error).toBeUndefined();
  expect(status.repositories).toHaveLength(1);
  const [fedora] = status.repositories;
  expect(fedora).toMatchObject({ repository: 'fedora', decision: 'pass', built: ['amd64', 'arm64'], missing: [] });
  expect([...fedora!.pushed].sort((a, b) => a.ociArch.localeCompare(b.ociArch))).toEqual(
    images.map(({ ociArch, digest }) => ({ ociArch, digest })),
  );
}

/**
 * Digest by digest, what one registry serves for the compose: each arch tag is the compose's image, and each index
 * tag is one OCI index (the same on every tag, the one the run reports) of exactly those images, each instance
 * annotated with the compose id.
 */
async function expectRegistryEndState(
  registry: string,
  composeId: string,
  images: ExpectedImage[],
  status: PublishStatus,
): Promise<string> {
  for (const image of images) {
    expect(
      await readTag(registry, 'fedora', `40-${image.composeArch}`),
      `${registry}/fedora:40-${image.composeArch}`,
    ).toMatchObject({ kind: 'image', digest: image.digest });
  }
  const indexes = await Promise.all(INDEX_TAGS.map((tag) => readTag(registry, 'fedora', tag)));
  const instances = images.map((image) => ({
    architecture: image.ociArch,
    os: 'linux',
    digest: image.digest,
    composeId,
  }));
  const digest = indexes[0]?.kind === 'index' ? indexes[0].digest : 'no index';
  expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  for (const [i, index] of indexes.entries()) {
    expect(index, `${registry}/fedora:${INDEX_TAGS[i]}`).toEqual({
      kind: 'index',
      mediaType: OCI_INDEX,
      digest,
      instances,
    });
  }
  const reported = status.repositories[0]!.manifests.filter((manifest) => manifest.registry === registry);
  expect(reported.sort((a, b) => a.tag.localeCompare(b.tag))).toEqual(
    INDEX_TAGS.map((tag) => ({ registry, tag, digest })).sort((a, b) => a.tag.localeCompare(b.tag)),
  );
  return digest;
}

/** Waits for a run's end while its Temporal server may be down: every call may fail until it is back. */
async function resultThroughOutages(
  handle: WorkflowHandle<typeof publishCompose>,
  timeoutMs: number,
): Promise<PublishStatus> {
  await until(
    'the run to end',
    async () => {
      const description = await handle.describe().catch(() => undefined);
      return description !== undefined && description.status.name !== 'RUNNING';
    },
    timeoutMs,
    500,
  );
  return handle.result();
}

describe('real servers failing under a run', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  const storage = () => ({ root: join(dir, 'factory-storage'), runroot: join(dir, 'factory-run') });
  const twoArchCompose = (composeId: string, format: '1.2' | '2.0' = '1.2') =>
    makeCompose({ composeId, images: { Container_Base: ['x86_64', 'aarch64'] }, format }, { dir, storage: storage() });
  const largeCompose = async (composeId: string) =>
    withLargeImages(await twoArchCompose(composeId), LARGE_IMAGE_MIB, { dir, storage: storage() });

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('server-faults');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('a registry SIGKILLed mid-push and restarted on the same port and data: the push is retried, and both registries end right', async () => {
    const compose = await largeCompose('Fedora-40-20261101.n.0');
    const images = await expectedImages(compose);
    const dataDir = join(dir, 'killed-registry');
    const port = await freePort();
    const killedNamespace = namespace('killed');
    const steady = `${inject('registryHost')}/${namespace('steady')}`;
    await withCleanups(async (defer) => {
      let registry = await startRegistry({ dataDir, port });
      defer(() => registry.stop());
      const killed = `${registry.host}/${killedNamespace}`;
      const { status, pushes } = await withPublisherWorker(
        env,
        dir,
        async ({ taskQueue }) => {
          const handle = await startRun(env.client, taskQueue, compose.root, compose.composeId);
          // In flight: the worker is sending an image's blob to the registry, which has the upload open.
          await until(
            'a blob upload to the registry',
            () => openUploads(join(dataDir, 'storage'), `${killedNamespace}/fedora`).length > 0,
            60_000,
            20,
          );
          await killRunning(join(dataDir, 'registry.yml'));
          const killedAt = Date.now();
          await registry.stop(); // only closes its log: the process is gone
          await sleep(3_000);
          registry = await startRegistry({ dataDir, port });
          const result = await handle.result();
          recovery('registry SIGKILLed mid-push, back after 3 s', killedAt);
          return { status: result, pushes: await endedAttempts(handle, ARCH_IMAGE_COPIES) };
        },
        { settings: settingsFor([plainHttp(killed), plainHttp(steady)]) },
      );
      // The kill hit a push: an attempt failed on that registry, and a later attempt of the same activity succeeded.
      expect(pushes).toHaveLength(2);
      const hit = pushes.filter((push) => push.attempt >= 2 && push.lastFailure?.includes(registry.host));
      expect(hit.length, JSON.stringify(pushes)).toBeGreaterThanOrEqual(1);
      console.log(`  failed attempt: ${hit[0]!.lastFailure}`);
      expectPassed(status, images);
      const onKilled = await expectRegistryEndState(killed, compose.composeId, images, status);
      const onSteady = await expectRegistryEndState(steady, compose.composeId, images, status);
      expect(onKilled).toBe(onSteady);
    });
  });

  it('the Temporal dev server SIGKILLed mid-run and restarted on its SQLite file: the worker reconnects by itself and the run completes', async () => {
    const compose = await twoArchCompose('Fedora-40-20261102.n.0', '2.0');
    const images = await expectedImages(compose);
    const dataDir = join(dir, 'temporal');
    const port = await freePort();
    const registry = `${inject('registryHost')}/${namespace('temporal')}`;
    const taskQueue = uniqueTaskQueue('server-faults-temporal');
    await withCleanups(async (defer) => {
      let server = await startTemporalDevServer({ dataDir, port });
      defer(() => server.stop());
      // Downloads held 2 s: they finish, and their activities complete, while the server is down.
      const host = await serveCompose(compose.root, { slowImagesMs: 2_000 });
      defer(() => host.close());
      // The worker's and the client's own connections to this server, not to the shared one.
      const connection = await NativeConnection.connect({ address: server.address });
      defer(() => connection.close());
      const clientConnection = await Connection.connect({ address: server.address });
      defer(() => clientConnection.close());
      const client = new Client({ connection: clientConnection, namespace: server.namespace });
      const worker = await createPublisherWorker({
        connection,
        namespace: server.namespace,
        taskQueue,
        workDir: join(dir, 'temporal-worker'),
        settings: settingsFor([plainHttp(registry)]),
        workflowBundle: await workflowBundle(),
      });
      const running = worker.run();
      defer(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      });
      const workerStopped = running.then(
        () => Promise.reject(new Error('the worker stopped while the run was going on')),
        (error: unknown) => Promise.reject(new Error(`the worker failed and stopped: ${(error as Error).message}`)),
      );
      workerStopped.catch(() => undefined);

      const handle = await startRun(client, taskQueue, host.url.replace(/\/$/, ''), compose.composeId);
      const { runId } = await handle.describe();
      // The server dies while the image downloads are in flight.
      await untilPending(handle, 'prepareImage', (activity) => activity.started && activity.attempt === 1);
      await killRunning(join(dataDir, 'temporal.sqlite'));
      const killedAt = Date.now();
      await server.stop(); // only closes its log: the process is gone
      await sleep(3_000);
      server = await startTemporalDevServer({ dataDir, port });
      console.log(`  server back ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
      const status = await Promise.race([resultThroughOutages(handle, 120_000), workerStopped]);
      recovery('Temporal dev server SIGKILLed mid-run, restarted after 3 s', killedAt);
      expectPassed(status, images);
      // The same run went on (its history survived in SQLite), on the same worker.
      expect((await handle.describe()).runId).toBe(runId);
      expect(worker.getState()).toBe('RUNNING');
      const prepares = await endedAttempts(handle, ['prepareImage']);
      console.log(
        `  prepareImage ended on attempts ${prepares.map((prepare) => prepare.attempt).join(', ')}${prepares.some((p) => p.lastFailure) ? `; retried after: ${prepares.find((p) => p.lastFailure)!.lastFailure}` : ''}`,
      );
      await expectRegistryEndState(registry, compose.composeId, images, status);
    });
  });

  it('two worker processes on one task queue, one SIGKILLed mid-push: the other worker finishes the run', async () => {
    const compose = await largeCompose('Fedora-40-20261103.n.0');
    const images = await expectedImages(compose);
    const taskQueue = uniqueTaskQueue('server-faults-workers');
    const registryNamespace = namespace('workers');
    // Same task queue, a work dir each (nothing there is shared between workers).
    const homes = ['a', 'b'].map((name) => join(dir, `worker-${name}`));
    const configs = homes.map((home) => {
      mkdirSync(home, { recursive: true });
      return writeHarnessConfig(home, {
        taskQueue,
        registryNamespace,
        extra: `\n[releases]\nlatest = "40"\n\n[publish]\nwork_dir = "${join(home, 'work')}"\n`,
      });
    });
    await withCleanups(async (defer) => {
      const started = await Promise.allSettled(configs.map((config) => startWorkerProcess(config)));
      for (const outcome of started) if (outcome.status === 'fulfilled') defer(() => stopWorkerProcess(outcome.value));
      const workers = started.map((outcome) => {
        if (outcome.status === 'rejected') throw outcome.reason;
        return outcome.value;
      });
      const run = await startPublishRun(env.client, loadConfig(configs[0]!), compose.root);
      // A push in flight on one worker: it is sending a blob of an image from its own work dir.
      const victim = await until(
        'a push in flight on a worker',
        () => {
          const index = homes.findIndex((home) => pidsSendingBlobs(join(home, 'work')).length > 0);
          return index >= 0 ? index : undefined;
        },
        60_000,
        20,
      );
      const [killed, survivor] = (victim === 0 ? workers : [...workers].reverse()) as [WorkerProcess, WorkerProcess];
      killed.child.kill('SIGKILL');
      await killed.child;
      const killedAt = Date.now();
      const status = await run.handle.result();
      recovery('one of two workers SIGKILLed mid-push', killedAt);
      expectPassed(status, images);
      // The killed push was retried on the survivor once the heartbeat timeout noticed the loss.
      const pushes = await endedAttempts(run.handle, ARCH_IMAGE_COPIES);
      const retried = pushes.filter((push) => push.attempt >= 2);
      expect(retried.length, JSON.stringify(pushes)).toBeGreaterThanOrEqual(1);
      for (const push of retried) {
        expect(push.identity).toMatch(new RegExp(`^${survivor.pid}@`));
        expect(push.lastFailure).toMatch(/heartbeat/i);
      }
      console.log(`  failed attempt: ${retried[0]!.lastFailure}`);
      await expectRegistryEndState(`${inject('registryHost')}/${registryNamespace}`, compose.composeId, images, status);
    });
  });

  describe('a compose host that misbehaves (429 with Retry-After is in publish-compose.test.ts)', () => {
    it('answering 500 to the first requests of every file: metadata and images are fetched again, and the run publishes', async () => {
      const registry = `${inject('registryHost')}/${namespace('http-500')}`;
      const compose = await twoArchCompose('Fedora-40-20261104.n.0', '2.0');
      const images = await expectedImages(compose);
      await withCleanups(async (defer) => {
        const host = await serveFaultyCompose(compose.root, {
          failFirst: [
            { match: /\/metadata\//, times: 1, status: 500 },
            { match: /\.tar\.xz$/, times: 2, status: 500 },
          ],
        });
        defer(() => host.close());
        const startedAt = Date.now();
        const status = await withPublisherWorker(
          env,
          dir,
          async ({ taskQueue }) => (await startRun(env.client, taskQueue, host.url, compose.composeId)).result(),
          { settings: settingsFor([plainHttp(registry)]) },
        );
        recovery('compose host 500 (metadata once, each image twice)', startedAt);
        expectPassed(status, images);
        for (const image of compose.images) {
          const path = servedPath(compose, image);
          expect(host.log.filter((line) => line.startsWith(`GET ${path} `)).slice(0, 3)).toEqual([
            `GET ${path} 500`,
            `GET ${path} 500`,
            `GET ${path} 200`,
          ]);
        }
        expect(host.log.filter((line) => line.startsWith('GET /metadata/composeinfo.json ')).slice(0, 2)).toEqual([
          'GET /metadata/composeinfo.json 500',
          'GET /metadata/composeinfo.json 200',
        ]);
        await expectRegistryEndState(registry, compose.composeId, images, status);
      });
    });

    it("cutting an image download off halfway once: the download is retried, the attempt's failure names the URL, and the run publishes", async () => {
      const registry = `${inject('registryHost')}/${namespace('truncated-once')}`;
      const compose = await twoArchCompose('Fedora-40-20261105.n.0', '2.0');
      const images = await expectedImages(compose);
      await withCleanups(async (defer) => {
        const host = await serveFaultyCompose(compose.root, { truncateImages: { times: 1 } });
        defer(() => host.close());
        const startedAt = Date.now();
        const { status, prepares } = await withPublisherWorker(
          env,
          dir,
          async ({ taskQueue }) => {
            const handle = await startRun(env.client, taskQueue, host.url, compose.composeId);
            return { status: await handle.result(), prepares: await endedAttempts(handle, ['prepareImage']) };
          },
          { settings: settingsFor([plainHttp(registry)]) },
        );
        recovery('compose host cut each image off halfway once', startedAt);
        expectPassed(status, images);
        expect(prepares).toHaveLength(2);
        for (const image of compose.images) {
          const url = `${host.url}${servedPath(compose, image)}`;
          const prepare = prepares.find((attempt) => attempt.lastFailure?.includes(url));
          expect(prepare, url).toBeDefined();
          expect(prepare!.attempt).toBe(2);
          expect(prepare!.lastFailure).toContain(`${url}: the download broke off after`);
        }
        console.log(`  failed attempt: ${prepares[0]!.lastFailure}`);
        await expectRegistryEndState(registry, compose.composeId, images, status);
      });
    });

    it('cutting an image download off halfway every time: each attempt fails naming the URL and the bytes received, and no tag is written', async () => {
      const registry = `${inject('registryHost')}/${namespace('truncated-always')}`;
      const compose = await twoArchCompose('Fedora-40-20261106.n.0', '2.0');
      await withCleanups(async (defer) => {
        const host = await serveFaultyCompose(compose.root, { truncateImages: { times: 'always' } });
        defer(() => host.close());
        await withPublisherWorker(
          env,
          dir,
          async ({ taskQueue }) => {
            const handle = await startRun(env.client, taskQueue, host.url, compose.composeId);
            // The retries go on for minutes (8 attempts, back-off up to 5 min): look at the second attempt's reason, then stop.
            const retried = await untilPending(
              handle,
              'prepareImage',
              (activity) => activity.attempt >= 2 && activity.lastFailure !== undefined,
            );
            await handle.terminate('server-faults: seen the failure');
            const urls = compose.images.map((image) => `${host.url}${servedPath(compose, image)}`);
            expect(
              urls.some((url) => retried.lastFailure!.includes(`${url}: the download broke off after`)),
              retried.lastFailure,
            ).toBe(true);
            expect(retried.lastFailure).toMatch(/broke off after \d+ of \d+ bytes/);
            console.log(`  failed attempt: ${retried.lastFailure}`);
          },
          { settings: settingsFor([plainHttp(registry)]) },
        );
        for (const tag of [...INDEX_TAGS, '40-x86_64', '40-aarch64'])
          expect(await readTag(registry, 'fedora', tag)).toEqual({ kind: 'absent' });
        for (const image of compose.images) expect(host.log).toContain(`GET ${servedPath(compose, image)} truncated`);
        expect(
          host.log.filter(
            (line) => line.startsWith('GET ') && line.includes('.tar.xz ') && !line.endsWith(' truncated'),
          ),
        ).toEqual([]);
      });
    });
  });
});
