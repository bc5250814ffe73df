// Signed publication through a whole run: a worker with [signing] signs every arch image and index it publishes,
// on every registry, verified before the index moves; users' own cosign verify accepts them with the configured
// key and refuses them with another; an identical respin adds no signature.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkSigningKey } from '../../src/activities/signing-key.js';
import { startPublishRun } from '../../src/client/publish-runs.js';
import { loadConfig } from '../../src/config.js';
import { signatureTag } from '../../src/domain/signing.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { cosignKeyPair, userVerifies } from '../support/cosign.js';
import {
  descendsFrom,
  endedAttempts,
  pidsRunning,
  startWorkerProcess,
  stopWorkerProcess,
  until,
  withCleanups,
  type WorkerProcess,
} from '../support/faults.js';
import { recordHistory } from '../support/histories.js';
import { testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const PASSPHRASE = 'a passphrase for the test key';

/** How many signatures the sigstore attachment of `digest` in a plain-HTTP repository holds (one layer each). */
async function signatureLayers(repository: string, digest: string): Promise<number> {
  const attachment = await execa('skopeo', [
    'inspect',
    '--raw',
    '--tls-verify=false',
    `docker://${repository}:${signatureTag(digest)}`,
  ]);
  return (JSON.parse(attachment.stdout) as { layers: unknown[] }).layers.length;
}

describe('signed publication', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('signed-publication');
  });
  afterAll(async () => {
    await env?.teardown();
  });

  it('signs and verifies every arch image and index on every registry, once', async () => {
    const ours = await cosignKeyPair(dir, 'ours', PASSPHRASE);
    const other = await cosignKeyPair(dir, 'other', PASSPHRASE);
    const signing = await checkSigningKey(
      { privateKey: ours.key, passphraseEnv: 'SIGSTORE_PASSPHRASE', publicKeys: [ours.pub] },
      { ...process.env, SIGSTORE_PASSPHRASE: PASSPHRASE },
      'test config',
    );
    const made = await makeCompose(
      { composeId: 'Fedora-34-20261203.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
    );
    const namespace = () => ({ url: `${inject('registryHost')}/g${randomUUID().slice(0, 8)}`, tlsVerify: false });
    const settings = testSettings({
      registries: [namespace(), namespace()],
      repositories: { Container_Base: 'fedora' },
      releases: { latest: '34', rawhide: '35' },
    });
    const publish = (taskQueue: string) =>
      env.client.workflow.start(publishCompose, {
        taskQueue,
        workflowId: `publish:${made.composeId}:${randomUUID()}`,
        args: [{ location: made.root, composeId: made.composeId }],
      });

    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const handle = await publish(taskQueue);
        const status = await handle.result();
        await recordHistory(handle, 'signed-publication');
        expect(status.signing).toBe('on');
        const [fedora] = status.repositories;
        expect(fedora!.decision).toBe('pass');
        const references = settings.registries.flatMap((registry) =>
          ['34', 'latest', '34-x86_64', '34-aarch64'].map((tag) => `${registry.url}/fedora:${tag}`),
        );
        for (const reference of references) {
          expect((await userVerifies(reference, ours.pub)).exitCode === 0, `${reference} with our key`).toBe(true);
          expect((await userVerifies(reference, other.pub)).exitCode === 0, `${reference} with another key`).toBe(
            false,
          );
        }
        // Every digest the registries serve at those tags is in the run's record, verified with our key.
        const signatures = fedora!.signatures ?? [];
        for (const reference of references) {
          const remote = await inspectRemote(reference, { tlsVerify: false });
          const digest = remote.kind === 'absent' ? undefined : remote.digest;
          const registry = settings.registries.find((r) => reference.startsWith(`${r.url}/`))!.url;
          expect(
            signatures.find((s) => s.registry === registry && s.digest === digest),
            reference,
          ).toMatchObject({ signed: true, keys: [ours.pub] });
        }
        expect(signatures).toHaveLength(2 * 3); // two registries × (two arch images + one index)

        // The same compose again: nothing new is written, and no signature piles up.
        const respin = await (await publish(taskQueue)).result();
        expect(respin.repositories.map((r) => r.decision)).toEqual(['noop']);
        for (const { registry, digest } of signatures)
          expect(await signatureLayers(`${registry}/fedora`, digest), digest).toBe(1);
      },
      { settings, signing, env: { SIGSTORE_PASSPHRASE: PASSPHRASE } },
    );
  }, 300_000);

  it('a worker SIGKILLed while cosign signs: the other worker signs what is left, and every digest has one signature', async () => {
    const ours = await cosignKeyPair(dir, 'killed', PASSPHRASE);
    const made = await makeCompose(
      { composeId: 'Fedora-34-20261204.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
    );
    const taskQueue = `signed-kill-${randomUUID().slice(0, 8)}`;
    const registryNamespace = `signed-kill-${randomUUID().slice(0, 6)}`;
    const registry = `${inject('registryHost')}/${registryNamespace}`;
    const homes = ['a', 'b'].map((name) => join(dir, `signing-worker-${name}`));
    const configs = homes.map((home) => {
      mkdirSync(home, { recursive: true });
      return writeHarnessConfig(home, {
        taskQueue,
        registryNamespace,
        extra: `
[releases]
latest = "34"

[publish]
work_dir = "${join(home, 'work')}"

[signing]
private_key = "${ours.key}"
passphrase_env = "SIGSTORE_PASSPHRASE"
public_keys = ["${ours.pub}"]
`,
      });
    });
    await withCleanups(async (defer) => {
      const workers: WorkerProcess[] = [];
      for (const config of configs) {
        const worker = await startWorkerProcess(config, { SIGSTORE_PASSPHRASE: PASSPHRASE });
        defer(() => stopWorkerProcess(worker));
        workers.push(worker);
      }
      const run = await startPublishRun(env.client, loadConfig(configs[0]!), made.root);
      // cosign is adding a signature for one of the workers.
      const victim = await until(
        'cosign signing for a worker',
        () => {
          const signing = pidsRunning('cosign', 'sign', '--key');
          const index = workers.findIndex((worker) => signing.some((pid) => descendsFrom(pid, worker.pid)));
          return index >= 0 ? index : undefined;
        },
        120_000,
        5,
      );
      const [killed, survivor] = (victim === 0 ? workers : [...workers].reverse()) as [WorkerProcess, WorkerProcess];
      killed.child.kill('SIGKILL');
      await killed.child;
      const status = await run.handle.result();
      expect(status.repositories.map((repository) => repository.decision)).toEqual(['pass']);
      // The killed attempt was taken over by the survivor after the heartbeat timeout.
      const signs = await endedAttempts(run.handle, ['signImages']);
      const retried = signs.filter((attempt) => attempt.attempt >= 2);
      expect(retried.length, JSON.stringify(signs)).toBeGreaterThanOrEqual(1);
      for (const attempt of retried) expect(attempt.identity).toMatch(new RegExp(`^${survivor.pid}@`));
      console.log(`  signImages retried after: ${retried[0]!.lastFailure}`);
      // Users' cosign accepts every tag, and each digest carries exactly one signature: the kill left none doubled.
      const signatures = status.repositories[0]!.signatures ?? [];
      expect(signatures).toHaveLength(3);
      for (const tag of ['34', 'latest', '34-x86_64', '34-aarch64'])
        expect((await userVerifies(`${registry}/fedora:${tag}`, ours.pub)).exitCode, tag).toBe(0);
      for (const { digest } of signatures) expect(await signatureLayers(`${registry}/fedora`, digest), digest).toBe(1);
    });
  }, 300_000);
});
