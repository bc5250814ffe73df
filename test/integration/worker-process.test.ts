import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPublishRun, waitForRun } from '../../src/client/publish-runs.js';
import { loadConfig, type Config } from '../../src/config.js';
import { freePort } from '../../src/dev/free-port.js';
import { cli } from '../support/cli.js';
import { makeCompose, serveCompose } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

const GRACE_MS = 2_000;

interface WorkerProcess {
  child: ResultPromise;
  lines: string[];
}

/** `compose-publisher worker` as a real process, as operators run it; resolves once it polls. */
async function startWorkerProcess(configFile: string): Promise<WorkerProcess> {
  const child = cli(['worker'], configFile, { stdin: 'ignore' });
  const lines: string[] = [];
  child.stderr.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const deadline = Date.now() + 60_000;
  while (!lines.some((line) => line.includes('"worker polling"'))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start:\n${lines.join('\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, lines };
}

describe('the worker process', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let configFile: string;
  let config: Config;
  let metricsAddress: string;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('worker-process');
    metricsAddress = `127.0.0.1:${await freePort()}`;
    configFile = writeHarnessConfig(dir, {
      taskQueue: uniqueTaskQueue('worker-process'),
      registryNamespace: 'worker-process',
      extra: `\n[publish]\nwork_dir = "${join(dir, 'work')}"\n\n[worker]\nshutdown_grace_time = "${GRACE_MS / 1000}s"\n\n[metrics]\naddress = "${metricsAddress}"\n`,
    });
    config = loadConfig(configFile);
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it("serves Prometheus metrics with the SDK's and the project's own counters after a run, and logs JSON lines", async () => {
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20241101.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 's'), runroot: join(dir, 'r') } },
    );
    const worker = await startWorkerProcess(configFile);
    try {
      const run = await startPublishRun(env.client, config, compose.root);
      expect((await waitForRun(run.handle, run.composeId)).phase).toBe('done');
      const scrape = await (await fetch(`http://${metricsAddress}/metrics`)).text();
      if (process.env.PRINT_METRICS)
        console.log(
          scrape
            .split('\n')
            .filter((line) => line.startsWith('compose_publisher'))
            .join('\n'),
        );
      expect(scrape).toMatch(/^compose_publisher_arch_images_pushed\{.*registry=".*\/worker-process".*\} 2$/m);
      expect(scrape).toMatch(/^compose_publisher_bytes_pushed\{.*\} \d+$/m);
      expect(scrape).toMatch(/^compose_publisher_repository_decisions\{.*decision="pass".*\} 1$/m);
      expect(scrape).toMatch(/^compose_publisher_push_duration_bucket\{/m);
      expect(scrape).toMatch(/^compose_publisher_manifest_duration_count\{.*\} 1$/m);
      expect(scrape).toMatch(/^temporal_activity_execution_latency/m);
      // The staleness report sets a gauge per repository, tag, arch and registry (nothing lags here: 0).
      const report = await cli(['report', '--json'], configFile);
      expect(report.exitCode).toBe(0);
      const afterReport = await (await fetch(`http://${metricsAddress}/metrics`)).text();
      for (const arch of ['amd64', 'arm64']) {
        expect(afterReport).toMatch(
          new RegExp(
            `^compose_publisher_arch_lag_days\\{(?=.*arch="${arch}")(?=.*repository="fedora")(?=.*tag="40")(?=.*registry=".*/worker-process").*\\} 0$`,
            'm',
          ),
        );
        expect(afterReport).toMatch(
          new RegExp(`^compose_publisher_arch_composes_behind\\{(?=.*arch="${arch}")(?=.*tag="40").*\\} 0$`, 'm'),
        );
      }
      const pushed = worker.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find((entry) => entry.message === 'arch image pushed');
      expect(pushed).toMatchObject({
        level: 'info',
        composeId: compose.composeId,
        repository: 'fedora',
        registry: `${inject('registryHost')}/worker-process`,
      });
    } finally {
      worker.child.kill('SIGKILL');
      await worker.child;
    }
  });

  it('on SIGTERM stops within the grace time, and the run completes on a restarted worker', async () => {
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20241102.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '2.0' },
      { dir, storage: { root: join(dir, 's'), runroot: join(dir, 'r') } },
    );
    const server = await serveCompose(compose.root, { slowImagesMs: 6_000 });
    const first = await startWorkerProcess(configFile);
    let second: WorkerProcess | undefined;
    try {
      const run = await startPublishRun(env.client, config, server.url.replace(/\/$/, ''));
      // Wait until the image download (held back by the slow server) is in flight on the first worker.
      await untilPreparing(run.handle);
      const signalled = Date.now();
      first.child.kill('SIGTERM');
      const exit = await first.child;
      const stoppedAfterMs = Date.now() - signalled;
      if (process.env.PRINT_SHUTDOWN_LOG) console.log(first.lines.join('\n'));
      expect(exit.exitCode).toBe(0);
      expect(stoppedAfterMs).toBeLessThan(GRACE_MS + 5_000);
      expect(first.lines.some((line) => line.includes('SIGTERM: no new tasks'))).toBe(true);

      second = await startWorkerProcess(configFile);
      const status = await waitForRun(run.handle, run.composeId);
      expect(status.phase).toBe('done');
      expect(status.repositories[0]).toMatchObject({ decision: 'pass', built: ['amd64', 'arm64'] });
    } finally {
      second?.child.kill('SIGKILL');
      await second?.child;
      await server.close();
    }
  });

  it('refuses a second worker on a work dir another live worker holds, naming it; takes over the lock of a killed one', async () => {
    // Without [metrics]: two workers on one host would also compete for its port.
    const shared = writeHarnessConfig(dir, {
      taskQueue: uniqueTaskQueue('worker-process-lock'),
      registryNamespace: 'worker-process',
      extra: `\n[publish]\nwork_dir = "${join(dir, 'work')}"\n`,
    });
    const first = await startWorkerProcess(shared);
    try {
      const second = await cli(['worker'], shared, { stdin: 'ignore' });
      expect(second.exitCode).not.toBe(0);
      expect(second.stderr).toContain(
        `work_dir ${join(dir, 'work')} is in use by another worker (pid ${first.child.pid}`,
      );
      expect(second.stderr).toContain('Give each worker process its own work_dir');
      expect(first.child.exitCode).toBeNull();
    } finally {
      first.child.kill('SIGKILL');
      await first.child;
    }
    const third = await startWorkerProcess(shared);
    third.child.kill('SIGTERM');
    expect((await third.child).exitCode).toBe(0);
  });

  it('a SIGKILLed worker costs its run seconds, not minutes: the activity is retried on the next worker after the heartbeat timeout', async () => {
    // Both arches: the other tests of this file publish fedora:40 with both to the same registry namespace.
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20241103.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 's'), runroot: join(dir, 'r') } },
    );
    const server = await serveCompose(compose.root, { slowImagesMs: 3_000 });
    const first = await startWorkerProcess(configFile);
    let second: WorkerProcess | undefined;
    try {
      const run = await startPublishRun(env.client, config, server.url.replace(/\/$/, ''));
      await untilPreparing(run.handle);
      first.child.kill('SIGKILL');
      await first.child;
      const killed = Date.now();
      second = await startWorkerProcess(configFile);
      const status = await waitForRun(run.handle, run.composeId);
      const recoveredMs = Date.now() - killed;
      console.log(
        `RECOVERY worker SIGKILLed mid-download, a new one started at once: ${(recoveredMs / 1000).toFixed(1)} s`,
      );
      expect(status).toMatchObject({ phase: 'done', repositories: [{ decision: 'pass', built: ['amd64', 'arm64'] }] });
      // The heartbeat timeout (10 s) plus a retry: far from the two minutes it took with a 2-minute timeout.
      expect(recoveredMs).toBeLessThan(60_000);
    } finally {
      second?.child.kill('SIGKILL');
      await second?.child;
      await server.close();
    }
  });
});

/** Until the run's first prepareImage attempt has started on a worker (the slow compose server holds it there). */
async function untilPreparing(handle: WorkflowHandle): Promise<void> {
  for (;;) {
    const pending = (await handle.describe()).raw.pendingActivities ?? [];
    if (
      pending.some(
        (activity) =>
          activity.activityType?.name === 'prepareImage' &&
          String(activity.state) !== '1' &&
          activity.attempt === 1 &&
          activity.lastStartedTime,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
