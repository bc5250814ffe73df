import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForRun } from '../../src/client/publish-runs.js';
import { parseConfig } from '../../src/config.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/dev/rabbitmq-server.js';
import { SEED_TOPIC } from '../../src/domain/message-schemas.js';
import { startListener, type Listener } from '../../src/listener/listener.js';
import type { ListenerLogEntry } from '../../src/listener/log.js';
import { publishWorkflowId, type PublishStatus } from '../../src/domain/run-contract/index.js';
import type { publishCompose } from '../../src/workflows/publish-compose.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { recordHistory } from '../support/histories.js';
import { asDelivery, publishAsPungi, readAsConsumers, recordDeliveries } from '../support/fedora-messaging.js';
import { testSettings, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

// Both ends through the real fedora-messaging 3.9.1 (scripts/setup.sh's venv): Pungi's message is sent with
// fedora_messaging.api.publish, and every message the runs send is read with fedora_messaging.message.get_message.

const PREFIX = 'org.fedoraproject.fmtest';

/** What Pungi's notification script hands to fedora_messaging.api.publish for a finished compose. */
function pungiStatus(compose: MadeCompose) {
  return {
    compose_date: compose.composeId.split('-')[2]!.slice(0, 8),
    compose_id: compose.composeId,
    compose_label: null,
    compose_path: `/mnt/koji/compose/40/${compose.composeId}`,
    compose_respin: 0,
    compose_type: 'nightly',
    location: compose.root,
    release_is_layered: false,
    release_name: 'Fedora',
    release_short: 'Fedora',
    release_type: 'ga',
    release_version: '40',
    status: 'FINISHED',
  };
}

describe("Fedora's messaging on both ends, on a real RabbitMQ", () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let broker: RabbitMqServer;
  let full: MadeCompose;
  let partial: MadeCompose;

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('fedora-messaging');
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    const started = startRabbitMq({ dataDir: join(dir, 'rabbitmq') });
    full = await makeCompose(
      { composeId: 'Fedora-40-20251211.n.0', images: { Container_Base: ['x86_64', 'aarch64'] }, format: '1.2' },
      { dir, storage },
    );
    partial = await makeCompose(
      { composeId: 'Fedora-40-20251212.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage },
    );
    broker = await started;
  });
  afterAll(async () => {
    await broker?.stop();
    await env?.teardown();
  });

  it('starts runs from Pungi messages, and every message it sends parses as its own class, the seed topic included', async () => {
    const taskQueue = uniqueTaskQueue('fedora-messaging');
    // Hybrid by policy when the 2 s wait runs out: the blocked compose then publishes with aarch64 carried.
    const settings = testSettings({
      repositories: { Container_Base: 'fedora' },
      waitForOverride: '2s',
      hybridOnWaitEnd: ['fedora'],
      notifications: { exchange: 'amq.topic', topicPrefix: PREFIX, seedAnnouncements: true },
    });
    const config = parseConfig(
      `[temporal]
address = "${inject('temporalAddress')}"
namespace = "${inject('temporalNamespace')}"
task_queue = "${taskQueue}"

[[registries]]
url = "${settings.registries[0]!.url}"
tls_verify = false

[repositories]
Container_Base = "fedora"

[architectures]
x86_64 = "amd64"
aarch64 = "arm64"

[amqp]
url = "${broker.url}"
queue = "fmtest"
routing_keys = ["${PREFIX}.pungi.compose.status.change"]
topic_prefix = "${PREFIX}"
allowed_locations = ["${dir}/"]
`,
      'fedora-messaging-test.toml',
    );
    const recorder = await recordDeliveries(broker.url, `${PREFIX}.#`);
    let listener: Listener | undefined;
    const entries: ListenerLogEntry[] = [];
    const runs: PublishStatus[] = [];
    try {
      await withPublisherWorker(
        env,
        dir,
        async () => {
          listener = startListener({
            client: env.client,
            config,
            log: (entry) => entries.push(entry),
            requeueDelayMs: 200,
            reconnect: { initialMs: 250, maxMs: 2_000 },
          });
          for (const compose of [full, partial]) {
            await publishAsPungi({
              amqpUrl: broker.url,
              topicPrefix: PREFIX,
              topic: 'pungi.compose.status.change',
              body: pungiStatus(compose),
              dir,
            });
            const handle = env.client.workflow.getHandle<typeof publishCompose>(publishWorkflowId(compose.composeId));
            await waitForRun(handle, compose.composeId);
            runs.push(await handle.result());
            if (compose === partial) await recordHistory(handle, 'seed-announcements');
          }
        },
        { amqpUrl: broker.url, settings, taskQueue },
      );
    } finally {
      await listener?.stop();
    }
    // Each message started its own run (not one of another test with the same compose id).
    expect(entries.flatMap((entry) => ('outcome' in entry ? [entry.outcome] : []))).toEqual(['started', 'started']);
    const [first, second] = runs;
    expect(first?.repositories[0]).toMatchObject({ decision: 'pass' });
    expect(second?.repositories[0]).toMatchObject({ decision: 'overridden', override: { mode: 'hybrid' } });

    // Pungi's own message was on the bus too, as fedora-messaging's base class.
    await expect.poll(() => recorder.deliveries.length, { timeout: 10_000 }).toBe(7);
    await recorder.close();
    const deliveries = recorder.deliveries.map(asDelivery);
    const read = await readAsConsumers(deliveries);
    const summary = deliveries.map((delivery, i) => {
      const message = read[i]!;
      if (!message.valid) throw new Error(`${delivery.routing_key} did not validate: ${message.error}`);
      expect(message.warnings, delivery.routing_key).toEqual([]);
      return [delivery.routing_key.slice(PREFIX.length + 1), message.class.split('.').pop()];
    });
    expect(summary).toEqual([
      ['pungi.compose.status.change', 'Message'],
      ['compose_publisher.container.published', 'ContainerPublished'],
      [SEED_TOPIC, 'ContainerPublishedV1'],
      ['pungi.compose.status.change', 'Message'],
      ['compose_publisher.container.blocked', 'ContainerBlocked'],
      ['compose_publisher.container.overridden', 'ContainerOverridden'],
      [SEED_TOPIC, 'ContainerPublishedV1'],
    ]);

    // Each seed announcement names exactly what its run published, with compose arch names and an integer release;
    // the hybrid one carries aarch64 from the index it replaced.
    const seeds = deliveries
      .map((delivery, i) => ({ delivery, read: read[i]! }))
      .filter(({ delivery }) => delivery.routing_key.endsWith(SEED_TOPIC));
    expect(seeds).toHaveLength(2);
    runs.forEach((run, i) => {
      const { delivery, read: message } = seeds[i]!;
      const published = run.repositories[0]!.manifests.map(
        (manifest) => `${manifest.registry}/fedora:${manifest.tag}`,
      ).sort();
      expect(published).toHaveLength(2);
      expect(message.valid && [...message.containers].sort()).toEqual(published);
      expect(JSON.parse(delivery.body)).toEqual({
        architectures: ['aarch64', 'x86_64'],
        compose_id: run.composeId,
        registries: [settings.registries[0]!.url],
        release: 40,
        repository: 'fedora',
        tags: ['40', 'latest'],
      });
      for (const name of published)
        expect(delivery.properties.headers[`fedora_messaging_container_${name}`]).toBe(true);
    });
  });
});
