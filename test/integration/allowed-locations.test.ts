// [compose] allowed_locations on the worker: a run started straight on Temporal (not through the listener) for a
// compose outside the list fails in its first activity, before anything is requested from that host; a redirect
// that leads outside is refused before it is followed; and a worker without the key says so when it starts.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AllowedLocations } from '../../src/domain/allowed-location.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { createPublisherWorker } from '../../src/worker.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { workerStartWarnings } from '../support/faults.js';
import { makeCompose, serveCompose, type MadeCompose } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { testSettings, workflowBundle } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

type Served = Awaited<ReturnType<typeof serveCompose>>;

/** A loopback server that answers every request with a 302 to `target(path)`, and records what it was asked. */
async function redirector(
  target: (path: string) => string,
): Promise<{ url: string; requests: string[]; close(): Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url ?? ''}`);
    response.writeHead(302, { location: target(request.url ?? '/') }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address for the redirecting server');
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('[compose] allowed_locations on the worker', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  /** A well-formed compose on a host the workers below do not trust: without the guard it would be published. */
  let foreign: Served;
  let foreignCompose: MadeCompose;
  /** An allowed host serving a compose, and an allowed host that redirects /ok/… there and /out/… to the foreign one. */
  let allowedHost: Served;
  let allowedCompose: MadeCompose;
  let redirecting: Awaited<ReturnType<typeof redirector>>;

  const storage = () => ({ root: join(dir, 's'), runroot: join(dir, 'r') });

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('allowed-locations');
    foreignCompose = await makeCompose(
      { composeId: 'Fedora-40-20241201.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: storage() },
    );
    allowedCompose = await makeCompose(
      { composeId: 'Fedora-40-20241202.n.0', images: { Container_Base: ['x86_64'] }, format: '2.0' },
      { dir, storage: storage() },
    );
    foreign = await serveCompose(foreignCompose.root);
    allowedHost = await serveCompose(allowedCompose.root);
    redirecting = await redirector((path) =>
      path.startsWith('/out/')
        ? `${foreign.url}${path.slice('/out/'.length)}`
        : `${allowedHost.url}${path.replace(/^\/ok\//, '')}`,
    );
  });
  afterAll(async () => {
    await Promise.all([foreign?.close(), allowedHost?.close(), redirecting?.close()]);
    await env?.teardown();
  });

  /** A worker whose config has [compose] allowed_locations = the redirecting host, the allowed host (and `morePrefixes`). */
  async function withGuardedWorker<T>(
    body: (taskQueue: string, registry: string) => Promise<T>,
    morePrefixes: string[] = [],
  ): Promise<T> {
    const allowed: AllowedLocations = {
      prefixes: [`${redirecting.url}/`, allowedHost.url, ...morePrefixes],
      key: '[compose].allowed_locations',
    };
    const settings = testSettings({ repositories: { Container_Base: 'fedora' } });
    const taskQueue = uniqueTaskQueue('allowed-locations');
    const worker = await createPublisherWorker({
      connection: env.nativeConnection,
      namespace: inject('temporalNamespace'),
      taskQueue,
      workDir: join(dir, `worker-${taskQueue}`),
      settings,
      allowedLocations: allowed,
      workflowBundle: await workflowBundle(),
    });
    return worker.runUntil(body(taskQueue, settings.registries[0]!.url));
  }

  /** Starts publishCompose directly on Temporal, as `temporal workflow start` would; returns its failure and how long it took. */
  async function failedRun(
    taskQueue: string,
    location: string,
    composeId: string,
  ): Promise<{ failure: { type?: string; message: string; nonRetryable?: boolean }; ms: number }> {
    const started = Date.now();
    const error = await env.client.workflow
      .execute(publishCompose, {
        taskQueue,
        workflowId: `publish:${composeId}:${Math.random()}`,
        args: [{ location, composeId }],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    // The run's failure is the activity's ApplicationFailure (its cause carries nonRetryable).
    const failure = ((error as WorkflowFailedError).cause?.cause ?? (error as WorkflowFailedError).cause) as {
      type?: string;
      message: string;
      nonRetryable?: boolean;
    };
    return { failure, ms: Date.now() - started };
  }

  async function nothingPublished(registry: string): Promise<void> {
    for (const tag of ['40', '40-x86_64', 'latest'])
      expect(await inspectRemote(`${registry}/fedora:${tag}`, { tlsVerify: false }), tag).toEqual({ kind: 'absent' });
  }

  it('fails a run for a compose on a host outside the list in seconds, non-retryably (UntrustedInput), with zero requests to that host', async () => {
    const location = foreign.url.replace(/\/$/, '');
    await withGuardedWorker(async (taskQueue, registry) => {
      const { failure, ms } = await failedRun(taskQueue, location, foreignCompose.composeId);
      expect(ms).toBeLessThan(15_000);
      expect(failure).toMatchObject({ type: 'UntrustedInput', nonRetryable: true });
      expect(failure.message).toContain(
        `the compose location "${location}" is not under any of [compose].allowed_locations (${redirecting.url}/, ${allowedHost.url})`,
      );
      await nothingPublished(registry);
    });
    expect(foreign.requests).toEqual([]);
  });

  it('refuses a redirect from an allowed host to one outside before following it: the target gets zero requests', async () => {
    await withGuardedWorker(async (taskQueue, registry) => {
      const { failure, ms } = await failedRun(taskQueue, `${redirecting.url}/out`, foreignCompose.composeId);
      expect(ms).toBeLessThan(15_000);
      expect(failure).toMatchObject({ type: 'UntrustedInput', nonRetryable: true });
      expect(failure.message).toContain(
        `${redirecting.url}/out/metadata/composeinfo.json redirects to "${foreign.url}metadata/composeinfo.json", which is not under any of [compose].allowed_locations`,
      );
      await nothingPublished(registry);
    });
    // One request, not retried: the refusal is final.
    expect(redirecting.requests).toEqual(['GET /out/metadata/composeinfo.json']);
    expect(foreign.requests).toEqual([]);
  });

  it('refuses a compose on an allowed host whose images.json lists an image on a host outside, before any image is fetched', async () => {
    const listing = await makeCompose(
      { composeId: 'Fedora-40-20241203.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: storage() },
    );
    const imagesJson = join(listing.root, 'metadata', 'images.json');
    const document = JSON.parse(readFileSync(imagesJson, 'utf8')) as {
      payload: { images: Record<string, Record<string, Array<{ path: string }>>> };
    };
    const entry = document.payload.images.Container!.x86_64![0]!;
    const outside = `${foreign.url}${entry.path}`;
    entry.path = outside;
    writeFileSync(imagesJson, JSON.stringify(document));
    const host = await serveCompose(listing.root);
    try {
      await withGuardedWorker(
        async (taskQueue, registry) => {
          const { failure, ms } = await failedRun(taskQueue, host.url.replace(/\/$/, ''), listing.composeId);
          expect(ms).toBeLessThan(15_000);
          expect(failure).toMatchObject({ type: 'UntrustedInput', nonRetryable: true });
          expect(failure.message).toContain(
            `the ${basename(listing.images[0]!.path)} image that images.json lists at "${outside}" is not under any of [compose].allowed_locations`,
          );
          await nothingPublished(registry);
        },
        [host.url],
      );
      expect(host.requests).toEqual(['GET /metadata/composeinfo.json', 'GET /metadata/images.json']);
    } finally {
      await host.close();
    }
    expect(foreign.requests).toEqual([]);
  });

  it('follows redirects that stay within the list, and publishes', async () => {
    await withGuardedWorker(async (taskQueue, registry) => {
      const status = await env.client.workflow.execute(publishCompose, {
        taskQueue,
        workflowId: `publish:${allowedCompose.composeId}:${Math.random()}`,
        args: [{ location: `${redirecting.url}/ok`, composeId: allowedCompose.composeId }],
      });
      expect(status.repositories.map((r) => [r.repository, r.decision, r.built])).toEqual([
        ['fedora', 'pass', ['amd64']],
      ]);
      expect(status.locationUnchecked).toBeUndefined();
      expect(await inspectRemote(`${registry}/fedora:40`, { tlsVerify: false })).toMatchObject({ kind: 'index' });
    });
    expect(redirecting.requests).toContain('GET /ok/metadata/composeinfo.json');
    expect(allowedHost.requests).toEqual(
      expect.arrayContaining(['GET /metadata/composeinfo.json', 'GET /metadata/images.json']),
    );
    expect(allowedHost.requests.some((request) => request.startsWith('GET /Container/x86_64/images/'))).toBe(true);
    expect(foreign.requests).toEqual([]);
  });
});

describe('the worker process says at start what it reads composes from', () => {
  const startWarnings = (dir: string, extra: string) =>
    workerStartWarnings(
      writeHarnessConfig(dir, {
        taskQueue: uniqueTaskQueue('allowed-start'),
        registryNamespace: 'allowed-start',
        extra: `\n[publish]\nwork_dir = "${join(dir, 'work')}"\n${extra}`,
      }),
    );

  it('without the key: a warning naming [compose].allowed_locations; with the deprecated [amqp] key: a warning naming the new one', async () => {
    const [unset, deprecated] = await Promise.all([
      startWarnings(scratchSubdir('allowed-start-unset'), ''),
      startWarnings(
        scratchSubdir('allowed-start-deprecated'),
        '\n[amqp]\nurl = "amqp://guest:guest@127.0.0.1:1/%2F"\nallowed_locations = ["https://kojipkgs.fedoraproject.org/compose/"]\n',
      ),
    ]);
    expect(unset).toEqual([
      expect.stringMatching(
        /: \[compose\]\.allowed_locations is not set: this worker reads a compose from any location a run names, and publishes it\. Set it to the prefixes your composes come from, e\.g\. \[compose\] allowed_locations = \["https:\/\/kojipkgs\.fedoraproject\.org\/compose\/"\]$/,
      ),
    ]);
    expect(deprecated).toEqual([
      expect.stringMatching(/: \[amqp\]\.allowed_locations is deprecated; move it to \[compose\]\.allowed_locations/),
    ]);
  });
});
