import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityEnvironment } from '../../src/activities/environment.js';
import { createActivities } from '../../src/activities/index.js';
import type { PublishSettings } from '../../src/domain/settings.js';
import { runTool } from '../../src/tools/run-tool.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const SECRET = { LOOT_TEST_USER: 'releng', LOOT_TEST_PASSWORD: 'the-real-registry-password' };

/** A registry that asks for Basic auth and records every request's headers: where stolen credentials would land. */
async function recordingRegistry(): Promise<{ host: string; requests: IncomingHttpHeaders[]; close(): Promise<void> }> {
  const requests: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    requests.push(request.headers);
    response
      .writeHead(401, { 'www-authenticate': 'Basic realm="loot"', 'docker-distribution-api-version': 'registry/2.0' })
      .end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    host: `127.0.0.1:${address.port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the trust boundary: a run chooses a compose, the worker chooses everything else', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let compose: MadeCompose;
  let loot: Awaited<ReturnType<typeof recordingRegistry>>;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('trust');
    compose = await makeCompose(
      { composeId: 'Fedora-40-20241001.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 's'), runroot: join(dir, 'r') } },
    );
    loot = await recordingRegistry();
  });
  afterAll(async () => {
    await loot?.close();
    await env?.teardown();
  });

  const workerSettings = (): PublishSettings => {
    const own = testSettings();
    return { ...own, registries: [{ ...own.registries[0]!, credentialPrefix: 'LOOT_TEST_' }] };
  };

  it('refuses, in seconds and before any registry is touched, a run whose input names registries and the worker’s credential prefix', async () => {
    const settings = workerSettings();
    const attack: PublishSettings = {
      ...settings,
      registries: [{ url: `${loot.host}/loot`, tlsVerify: false, credentialPrefix: 'LOOT_TEST_' }],
    };
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const started = Date.now();
        const error = await env.client.workflow
          .execute(publishCompose, {
            taskQueue,
            workflowId: `publish:${compose.composeId}:attack`,
            args: [{ location: compose.root, composeId: compose.composeId, settings: attack }],
          })
          .catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(15_000);
        expect(error).toBeInstanceOf(WorkflowFailedError);
        const cause = (error as WorkflowFailedError).cause as { type?: string; message: string };
        expect(cause.type).toBe('InvalidInput');
        expect(cause.message).toContain('the run input names "settings", which a run may not choose');
      },
      { env: SECRET, settings },
    );
    expect(loot.requests).toEqual([]);
    expect(await inspectRemote(`${settings.registries[0]!.url}/fedora:40-x86_64`, { tlsVerify: false })).toEqual({
      kind: 'absent',
    });
  });

  it('publishes with the worker’s own settings when the input names only the compose, and records them in history', async () => {
    const settings = workerSettings();
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const handle = await env.client.workflow.start(publishCompose, {
          taskQueue,
          workflowId: `publish:${compose.composeId}:own`,
          args: [{ location: compose.root, composeId: compose.composeId }],
        });
        expect((await handle.result()).repositories.map((r) => [r.repository, r.decision])).toEqual([
          ['fedora', 'pass'],
          ['fedora-minimal', 'noop'],
        ]);
        const history = JSON.stringify(await handle.fetchHistory());
        expect(history).toContain('workerSettings');
        expect(history).not.toContain(SECRET.LOOT_TEST_PASSWORD);
      },
      { env: SECRET, settings },
    );
    expect(await inspectRemote(`${settings.registries[0]!.url}/fedora:40`, { tlsVerify: false })).toMatchObject({
      kind: 'index',
    });
  });

  it('an activity asked to touch a registry outside the worker’s config refuses, sending nothing', async () => {
    const settings = workerSettings();
    const activities = createActivities(
      activityEnvironment({ workDir: join(dir, 'activity-worker'), settings, env: { ...process.env, ...SECRET } }),
    );
    const mock = new MockActivityEnvironment();
    const failure = await mock
      .run(activities.inspectPublished, {
        registries: [{ url: `${loot.host}/loot`, tlsVerify: false, credentialPrefix: 'LOOT_TEST_' }],
        repositories: ['fedora'],
        tags: ['40'],
      })
      .catch((e: unknown) => e);
    expect(failure).toMatchObject({ type: 'UntrustedInput', nonRetryable: true });
    expect((failure as Error).message).toContain(
      `registry "${loot.host}/loot" is not one of this worker's [[registries]]`,
    );
    expect(loot.requests).toEqual([]);
  });

  it('sweeps what a killed worker left in its work dir (authfiles, tool temp dirs, partial cache files) when a worker starts there', async () => {
    const workDir = join(dir, 'crashed-worker');
    mkdirSync(join(workDir, 'scratch', 'auth-Xy12ab'), { recursive: true });
    writeFileSync(
      join(workDir, 'scratch', 'auth-Xy12ab', 'auth.json'),
      JSON.stringify({ auths: { 'quay.io': { auth: 'c2VjcmV0' } } }),
    );
    mkdirSync(join(workDir, 'tmp', 'oci1234567'), { recursive: true });
    mkdirSync(join(workDir, 'cache'), { recursive: true });
    writeFileSync(join(workDir, 'cache', `${'a'.repeat(64)}.oci.tar.0f1e.part`), 'half');
    writeFileSync(join(workDir, 'cache', `${'b'.repeat(64)}.oci.tar`), 'kept');
    activityEnvironment({ workDir, settings: workerSettings() });
    expect(readdirSync(join(workDir, 'scratch'))).toEqual([]);
    expect(readdirSync(join(workDir, 'tmp'))).toEqual([]);
    expect(readdirSync(join(workDir, 'cache'))).toEqual([`${'b'.repeat(64)}.oci.tar`]);
    // And the tools' temporary files go there from now on, not to /var/tmp.
    expect((await runTool('sh', ['-c', 'printf %s "$TMPDIR"'])).trim()).toBe(join(workDir, 'tmp'));
  });

  it.each([
    [
      'a compose id dated in the future',
      { composeId: 'Fedora-40-20991231.n.0' },
      'InvalidComposeId',
      'more than a day after now',
    ],
    [
      'a compose id that is not productmd’s',
      { composeId: 'Fedora-40-20240501.n.0"$(id)' },
      'InvalidComposeId',
      'is not a compose id',
    ],
    ['a relative location', { location: 'compose' }, 'InvalidInput', 'neither an http(s) URL nor an absolute path'],
    ['a location with a newline', { location: '/srv/compose\n/etc' }, 'InvalidInput', 'printable characters'],
    ['an input that is not an object', 'Fedora-40-20241001.n.0', 'InvalidInput', 'the run input is not an object'],
  ])('refuses %s at once', async (_name, change, type, text) => {
    const input =
      typeof change === 'string' ? change : { location: compose.root, composeId: compose.composeId, ...change };
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const started = Date.now();
        const error: unknown = await env.client.workflow
          .execute('publishCompose', { taskQueue, workflowId: `publish:bad-input:${Math.random()}`, args: [input] })
          .catch((e: unknown) => e);
        expect(Date.now() - started).toBeLessThan(15_000);
        const cause = (error as WorkflowFailedError).cause as { type?: string; message: string };
        expect(cause).toMatchObject({ type });
        expect(cause.message).toContain(text);
      },
      { settings: workerSettings() },
    );
  });
});
