// Signed publication through a whole run: a worker with [signing] signs every arch image and index it publishes,
// on every registry, verified before the index moves; users' own cosign verify accepts them with the configured
// key and refuses them with another; an identical respin adds no signature.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { checkSigningKey } from '../../src/activities/signing-key.js';
import { signatureTag } from '../../src/domain/signing.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose } from '../support/compose-factory.js';
import { cosignKeyPair, userVerifies } from '../support/cosign.js';
import { recordHistory } from '../support/histories.js';
import { testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const PASSPHRASE = 'a passphrase for the test key';

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
        for (const { registry, digest } of signatures) {
          const attachment = await execa('skopeo', [
            'inspect',
            '--raw',
            '--tls-verify=false',
            `docker://${registry}/fedora:${signatureTag(digest)}`,
          ]);
          expect((JSON.parse(attachment.stdout) as { layers: unknown[] }).layers, digest).toHaveLength(1);
        }
      },
      { settings, signing, env: { SIGSTORE_PASSPHRASE: PASSPHRASE } },
    );
  }, 300_000);
});
