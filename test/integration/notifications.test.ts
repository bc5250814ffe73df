import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PublishSettings } from '../../src/domain/settings.js';
import { freePort } from '../../src/dev/free-port.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/dev/rabbitmq-server.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { recordHistory } from '../support/histories.js';
import { runPublish, testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir } from '../support/temporal.js';

const PREFIX = 'org.fedoraproject.test';

interface Received {
  routingKey: string;
  body: Record<string, unknown>;
  headers: Record<string, unknown>;
  messageId: string;
}

describe('decision notifications on a real RabbitMQ', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let broker: RabbitMqServer;
  let full: MadeCompose;
  let partial: MadeCompose;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('notifications');
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    const started = startRabbitMq({ dataDir: join(dir, 'rabbitmq') });
    full = await makeCompose(
      { composeId: 'Fedora-40-20241001.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage },
    );
    partial = await makeCompose(
      { composeId: 'Fedora-40-20241002.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage },
    );
    broker = await started;
  });
  afterAll(async () => {
    await broker?.stop();
    await env?.teardown();
  });

  const settings = (): PublishSettings =>
    testSettings({
      repositories: { Container_Base: 'fedora' },
      waitForOverride: '1s',
      notifications: { exchange: 'amq.topic', topicPrefix: PREFIX },
    });

  async function subscribe(): Promise<{ received: Received[]; close(): Promise<void> }> {
    const connection = await amqp.connect(broker.url);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'amq.topic', `${PREFIX}.compose_publisher.container.#`);
    const received: Received[] = [];
    await channel.consume(
      queue,
      (message) => {
        if (!message) return;
        received.push({
          routingKey: message.fields.routingKey,
          body: JSON.parse(message.content.toString()) as Record<string, unknown>,
          headers: message.properties.headers ?? {},
          messageId: String(message.properties.messageId),
        });
      },
      { noAck: true },
    );
    return { received, close: () => connection.close() };
  }

  it('announces a published and a blocked repository with fedora-messaging headers', async () => {
    const runSettings = settings();
    const subscriber = await subscribe();
    try {
      await withPublisherWorker(
        env,
        dir,
        async ({ taskQueue }) => {
          await runPublish(env, taskQueue, { location: full.root, composeId: full.composeId });
          const workflowId = `publish:${partial.composeId}:notified`;
          const blocked = await runPublish(
            env,
            taskQueue,
            { location: partial.root, composeId: partial.composeId },
            workflowId,
          );
          await recordHistory(env.client.workflow.getHandle(workflowId), 'blocked-with-notifications');
          expect(blocked.undeliveredNotifications ?? []).toEqual([]);
        },
        { amqpUrl: broker.url, settings: runSettings },
      );
      await expect.poll(() => subscriber.received.length).toBe(2);
      const [published, blocked] = subscriber.received;
      expect(published).toMatchObject({
        routingKey: `${PREFIX}.compose_publisher.container.published`,
        body: {
          compose_id: full.composeId,
          release: '40',
          repository: 'fedora',
          decision: 'published',
          registries: [runSettings.registries[0]!.url],
          tags: ['40', 'latest'],
          architectures: ['amd64', 'arm64'],
          missing_architectures: [],
        },
        headers: { fedora_messaging_schema: 'compose_publisher.container.published', fedora_messaging_severity: 20 },
      });
      expect(Date.parse(String(published!.headers['sent-at']))).not.toBeNaN();
      expect(blocked).toMatchObject({
        routingKey: `${PREFIX}.compose_publisher.container.blocked`,
        body: {
          compose_id: partial.composeId,
          decision: 'blocked',
          architectures: ['amd64', 'arm64'],
          missing_architectures: ['arm64'],
        },
      });
      expect(published!.messageId).not.toBe(blocked!.messageId);
    } finally {
      await subscriber.close();
    }
  });

  it('finishes the run and records the undelivered notification when the broker stays down', async () => {
    const nobody = `amqp://guest:guest@127.0.0.1:${await freePort()}/%2F`;
    await withPublisherWorker(
      env,
      dir,
      async ({ taskQueue }) => {
        const result = await runPublish(env, taskQueue, { location: full.root, composeId: full.composeId });
        expect(result.phase).toBe('done');
        expect(result.repositories[0]!.decision).toBe('pass');
        expect(result.undeliveredNotifications).toEqual([
          expect.objectContaining({
            repository: 'fedora',
            topic: `${PREFIX}.compose_publisher.container.published`,
            error: expect.stringMatching(/ECONNREFUSED/) as unknown,
          }),
        ]);
      },
      { amqpUrl: nobody, settings: settings() },
    );
  });
});
