import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withRegistryAccess } from '../../src/activities/registry-credentials.js';
import { startRegistry, type RegistryServer } from '../../src/dev/registry-server.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { runPublish, testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const USER = 'releng';
const PASSWORD = 'correct-horse-battery-staple';

describe('registry credentials', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let registry: RegistryServer;
  let compose: MadeCompose;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('credentials');
    const htpasswd = join(dir, 'htpasswd');
    writeFileSync(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 8)}\n`);
    registry = await startRegistry({ dataDir: join(dir, 'registry'), htpasswdFile: htpasswd });
    compose = await makeCompose(
      { composeId: 'Fedora-40-20240701.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
    );
  });
  afterAll(async () => {
    await registry?.stop();
    await env?.teardown();
  });

  const settings = () =>
    testSettings({
      registries: [{ url: `${registry.host}/fedora`, tlsVerify: false, credentialPrefix: 'TEST_REGISTRY_' }],
      repositories: { Container_Base: 'fedora' },
    });

  it('pushes with credentials from the worker environment, and they never reach history', async () => {
    const runSettings = settings();
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const workflowId = `publish:${compose.composeId}:auth`;
        const result = await runPublish(
          env,
          taskQueue,
          { location: compose.root, composeId: compose.composeId },
          workflowId,
        );
        expect(result.repositories[0]).toMatchObject({ decision: 'pass', built: ['amd64'] });
        const history = JSON.stringify(await env.client.workflow.getHandle(workflowId).fetchHistory());
        expect(history).not.toContain(PASSWORD);
        expect(history).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));
      },
      { env: { TEST_REGISTRY_USER: USER, TEST_REGISTRY_PASSWORD: PASSWORD }, settings: runSettings },
    );
    const access = {
      settings: runSettings,
      env: { TEST_REGISTRY_USER: USER, TEST_REGISTRY_PASSWORD: PASSWORD },
      scratchDir: dir,
    };
    const published = await withRegistryAccess(runSettings.registries[0]!.url, access, (credentials) =>
      inspectRemote(`${registry.host}/fedora/fedora:40`, credentials),
    );
    expect(published).toMatchObject({ kind: 'index' });
  });

  it.each([
    {
      name: 'a wrong password',
      env: { TEST_REGISTRY_USER: USER, TEST_REGISTRY_PASSWORD: 'wrong' },
      type: 'RegistryUnauthorized',
      text: /unauthorized|authentication required/i,
    },
    {
      name: 'a missing password',
      env: { TEST_REGISTRY_USER: USER },
      type: 'MissingCredentials',
      text: /TEST_REGISTRY_PASSWORD is not set/,
    },
  ])('fails at once, without retrying, on $name', async ({ env: workerEnv, type, text }) => {
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const error = await runPublish(env, taskQueue, { location: compose.root, composeId: compose.composeId }).catch(
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(WorkflowFailedError);
        const cause = (error as WorkflowFailedError).cause?.cause as { type?: string; message: string };
        expect(cause.type).toBe(type);
        expect(cause.message).toMatch(text);
      },
      { env: { TEST_REGISTRY_PASSWORD: undefined, ...workerEnv }, settings: settings() },
    );
  });
});
