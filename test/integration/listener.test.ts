import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { connect } from 'amqplib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { waitForRun } from '../../src/client/publish-runs.js';
import { parseConfig, publishSettings, type Config } from '../../src/config.js';
import { freePort } from '../../src/dev/free-port.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/dev/rabbitmq-server.js';
import { startListener, type Listener } from '../../src/listener/listener.js';
import { jsonLines, type DeliveryLog, type ListenerLogEntry } from '../../src/listener/log.js';
import { deadLetterQueue } from '../../src/listener/topology.js';
import { publishWorkflowId } from '../../src/domain/run-contract/index.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

// LISTENER_TEST_LOG=1 prints the listeners' log lines.

/** A Pungi compose status message, as fedora-messaging carries it. */
function statusMessage(compose: { composeId: string; root?: string }, status = 'FINISHED'): Record<string, unknown> {
  return {
    compose_id: compose.composeId,
    compose_date: '20240910',
    compose_type: 'nightly',
    compose_respin: 0,
    release_short: 'Fedora',
    release_version: '40',
    release_is_layered: false,
    status,
    ...(compose.root ? { location: compose.root } : {}),
  };
}

describe('compose-publisher listen, on a real RabbitMQ', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let broker: RabbitMqServer;
  let composes: {
    good: MadeCompose;
    afterBad: MadeCompose;
    afterRestart: MadeCompose;
    whileTemporalDown: MadeCompose;
    enveloped: MadeCompose;
    forged: MadeCompose;
  };

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('listener');
    const storage = { root: join(dir, 'factory-storage'), runroot: join(dir, 'factory-run') };
    const compose = (composeId: string) =>
      makeCompose({ composeId, images: { Container_Base: ['x86_64'] }, format: '1.2' }, { dir, storage });
    // The broker starts (a few seconds of Erlang boot) while buildah makes the composes.
    const started = startRabbitMq({ dataDir: join(dir, 'rabbitmq') });
    const [good, afterBad, afterRestart, whileTemporalDown, enveloped, forged] = await Promise.all(
      [
        'Fedora-40-20240910.n.0',
        'Fedora-40-20240911.n.0',
        'Fedora-40-20240912.n.0',
        'Fedora-40-20240913.n.0',
        'Fedora-40-20240914.0',
        'Fedora-40-20991231.n.0',
      ].map(compose),
    );
    broker = await started;
    composes = {
      good: good!,
      afterBad: afterBad!,
      afterRestart: afterRestart!,
      whileTemporalDown: whileTemporalDown!,
      enveloped: enveloped!,
      forged: forged!,
    };
  });
  afterAll(async () => {
    await broker?.stop();
    await env?.teardown();
  });

  /**
   * A listener on its own queue and routing key, with a worker, for the duration of `body`; `listen` starts
   * another one on the same queue (stopped afterwards too).
   */
  async function withListener(
    options: { amqp?: string; client?: Client },
    body: (harness: ListenerHarness) => Promise<void>,
  ): Promise<void> {
    const name = `listen-${randomUUID().slice(0, 8)}`;
    const config = listenerConfig(uniqueTaskQueue('listen'), name, options.amqp ?? '');
    await withPublisherWorker(
      env,
      dir,
      async () => {
        const routingKey = `org.fedoraproject.${name}.pungi.compose.status.change`;
        const entries: ListenerLogEntry[] = [];
        const listeners: Listener[] = [];
        const listen = async (client: Client) => {
          const connected = entries.filter((entry) => 'event' in entry && entry.event === 'connected').length;
          const log = (entry: ListenerLogEntry) => {
            entries.push(entry);
            if (process.env.LISTENER_TEST_LOG) jsonLines(entry);
          };
          const listener = startListener({
            client,
            config,
            log,
            requeueDelayMs: 200,
            reconnect: { initialMs: 250, maxMs: 2_000 },
          });
          listeners.push(listener);
          await until(
            () => entries.filter((entry) => 'event' in entry && entry.event === 'connected').length > connected,
            'the listener to connect',
          );
          return listener;
        };
        try {
          const listener = await listen(options.client ?? env.client);
          await body({ entries, listener, listen, queue: name, publish: (message) => publish(routingKey, message) });
        } finally {
          await Promise.all(listeners.map((listener) => listener.stop()));
        }
        for (const listener of listeners) await expect(listener.done).resolves.toBeUndefined();
      },
      { taskQueue: config.temporal.task_queue, settings: publishSettings(config) },
    );
  }

  function listenerConfig(taskQueue: string, name: string, amqpExtra: string): Config {
    return parseConfig(
      `[temporal]
address = "${inject('temporalAddress')}"
namespace = "${inject('temporalNamespace')}"
task_queue = "${taskQueue}"

[[registries]]
url = "${inject('registryHost')}/${name}"
tls_verify = false

[repositories]
Container_Base = "fedora"

[architectures]
x86_64 = "amd64"

[releases]
latest = "40"

[amqp]
url = "${broker.url}"
queue = "${name}"
routing_keys = ["org.fedoraproject.${name}.pungi.compose.status.change"]
dead_letter_exchange = "${name}.dlx"
allowed_locations = ["${dir}/"]
${amqpExtra}
`,
      `${name}.toml`,
    );
  }

  /** Publishes as fedora-messaging does: persistent JSON on amq.topic, confirmed by the broker. */
  async function publish(routingKey: string, message: Record<string, unknown> | string): Promise<void> {
    const connection = await connect(broker.url);
    try {
      const channel = await connection.createConfirmChannel();
      const body = typeof message === 'string' ? message : JSON.stringify(message);
      channel.publish('amq.topic', routingKey, Buffer.from(body), {
        persistent: true,
        contentType: 'application/json',
      });
      await channel.waitForConfirms();
    } finally {
      await connection.close();
    }
  }

  /** Every message waiting in a queue, removed. */
  async function drain(queue: string): Promise<Array<{ body: string; reason: unknown }>> {
    const connection = await connect(broker.url);
    try {
      const channel = await connection.createChannel();
      const messages: Array<{ body: string; reason: unknown }> = [];
      for (
        let message = await channel.get(queue, { noAck: true });
        message;
        message = await channel.get(queue, { noAck: true })
      ) {
        const deaths = message.properties.headers?.['x-death'] as Array<{ reason: unknown }> | undefined;
        messages.push({ body: message.content.toString(), reason: deaths?.[0]?.reason });
      }
      return messages;
    } finally {
      await connection.close();
    }
  }

  async function runsOf(composeId: string): Promise<number> {
    let count = 0;
    for await (const _ of env.client.workflow.list({ query: `WorkflowId = "${publishWorkflowId(composeId)}"` }))
      count += 1;
    return count;
  }

  async function publishedRun(compose: MadeCompose) {
    return waitForRun(env.client.workflow.getHandle(publishWorkflowId(compose.composeId)), compose.composeId);
  }

  it('starts one run for a message, and none for the same message delivered again', async () => {
    const { good } = composes;
    await withListener({}, async ({ entries, publish, queue }) => {
      const message = statusMessage(good);
      await Promise.all([publish(message), publish(message)]);
      await until(() => deliveries(entries).length === 2, 'both copies to be handled');
      expect(deliveries(entries).map((entry) => [entry.outcome, entry.composeId, entry.workflowId])).toEqual([
        ['started', good.composeId, `publish:${good.composeId}`],
        ['already-started', good.composeId, `publish:${good.composeId}`],
      ]);

      const run = await publishedRun(good);
      expect(run).toMatchObject({
        composeId: good.composeId,
        phase: 'done',
        repositories: [{ repository: 'fedora', decision: 'pass', built: ['amd64'] }],
      });

      await publish(message);
      await until(() => deliveries(entries).length === 3, 'the third copy to be handled');
      expect(deliveries(entries)[2]).toMatchObject({ outcome: 'already-started', run: 'COMPLETED' });
      expect(await runsOf(good.composeId)).toBe(1);
      expect(await drain(queue)).toEqual([]);
    });
  });

  it("starts a run from a message in the fedmsg envelope that names the compose's top directory, as pungi-orchestrate does", async () => {
    const { enveloped } = composes;
    await withListener({}, async ({ entries, publish, queue }) => {
      const top = dirname(enveloped.root);
      const body = {
        ...statusMessage({ composeId: enveloped.composeId, root: top }),
        compose_type: 'production',
        release_version: 40,
      };
      await publish({
        i: 1,
        msg_id: '2024-0f0e',
        timestamp: 1726000000,
        topic: 'org.fedoraproject.prod.pungi.compose.status.change',
        username: 'root',
        msg: body,
      });
      await until(() => deliveries(entries).length === 1, 'the message to be handled');
      expect(deliveries(entries)[0]).toMatchObject({
        outcome: 'started',
        composeId: enveloped.composeId,
        location: top,
      });
      expect(await publishedRun(enveloped)).toMatchObject({
        phase: 'done',
        repositories: [{ repository: 'fedora', decision: 'pass', built: ['amd64'] }],
      });
      expect(await drain(queue)).toEqual([]);
    });
  });

  it('dead-letters malformed, incomplete and mismatched messages, ignores unwanted ones, and still runs the valid one after them', async () => {
    const { good, afterBad, forged } = composes;
    await withListener({ amqp: 'compose_id_patterns = ["^Fedora-40-"]' }, async ({ entries, publish, queue }) => {
      const malformed = '{"compose_id": "Fedora-40-20240911.n.0", "status": "FINISHED", ';
      const noLocation = statusMessage({ composeId: afterBad.composeId });
      const mismatched = { ...statusMessage(afterBad), location: good.root };
      const doomed = statusMessage(afterBad, 'DOOMED');
      const otherRelease = statusMessage({ composeId: 'Fedora-Rawhide-20240911.n.0', root: afterBad.root });
      const elsewhere = { ...statusMessage(afterBad), location: 'http://127.0.0.1:1/compose' };
      const future = statusMessage(forged);
      for (const message of [malformed, noLocation, mismatched, doomed, otherRelease, elsewhere, future])
        await publish(message);
      await publish(statusMessage(afterBad));
      await until(() => deliveries(entries).length === 8, 'all eight messages to be handled');

      const outcomes = deliveries(entries).map((entry) => [entry.outcome, entry.reason]);
      expect(outcomes).toEqual(
        expect.arrayContaining([
          ['dead-lettered', expect.stringMatching(/^body is not JSON/)],
          ['dead-lettered', 'location: missing (the compose top directory URL)'],
          [
            'dead-lettered',
            `compose_id does not match the compose at the location: its metadata/composeinfo.json says ${good.composeId}`,
          ],
          ['ignored', 'status DOOMED is not one of FINISHED, FINISHED_INCOMPLETE ([amqp].statuses)'],
          ['ignored', 'compose id matches none of [amqp].compose_id_patterns'],
          [
            'dead-lettered',
            `location "http://127.0.0.1:1/compose" is not under any of [amqp].allowed_locations (${dir}/)`,
          ],
          [
            'dead-lettered',
            expect.stringMatching(/^compose id Fedora-40-20991231\.n\.0 is dated 20991231, more than a day after now/),
          ],
          ['started', undefined],
        ]),
      );
      expect((await publishedRun(afterBad)).phase).toBe('done');

      const dead = await drain(deadLetterQueue(queue));
      expect(dead.map((message) => message.body).sort()).toEqual(
        [
          malformed,
          JSON.stringify(noLocation),
          JSON.stringify(mismatched),
          JSON.stringify(elsewhere),
          JSON.stringify(future),
        ].sort(),
      );
      expect(dead.every((message) => message.reason === 'rejected')).toBe(true);
      expect(await drain(queue)).toEqual([]);
    });
  });

  it('reconnects after the broker restarts and consumes the next message', async () => {
    const { afterRestart } = composes;
    await withListener({}, async ({ entries, publish }) => {
      await broker.restart();
      await publish(statusMessage(afterRestart));
      await until(() => deliveries(entries).length === 1, 'the message sent after the restart to be handled');

      const events = entries.flatMap((entry) => ('event' in entry ? [entry.event] : []));
      expect(events[0]).toBe('connected');
      expect(events).toContain('disconnected');
      expect(events.at(-1)).toBe('connected');
      expect(deliveries(entries)).toMatchObject([{ outcome: 'started', composeId: afterRestart.composeId }]);
      expect((await publishedRun(afterRestart)).phase).toBe('done');
    });
  });

  it('requeues a message while Temporal is unreachable, without losing it: the next listener starts its run', async () => {
    const { whileTemporalDown } = composes;
    // Nothing listens on this port; no gRPC retries, so each attempt fails at once.
    const unreachable = new Client({
      connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] }),
    });
    try {
      await withListener({ client: unreachable }, async ({ entries, listener, listen, publish, queue }) => {
        await publish(statusMessage(whileTemporalDown));
        await until(() => deliveries(entries).length >= 2, 'two failed attempts');
        const [first, second] = deliveries(entries);
        expect(first).toMatchObject({
          outcome: 'requeued',
          composeId: whileTemporalDown.composeId,
          redelivered: false,
        });
        expect(first?.reason).toMatch(/^Temporal did not confirm the start/);
        expect(second).toMatchObject({ outcome: 'requeued', redelivered: true });
        await listener.stop();

        const attempts = deliveries(entries).length;
        await listen(env.client);
        await until(() => deliveries(entries).length > attempts, 'the listener with a reachable Temporal to handle it');
        expect(deliveries(entries).at(-1)).toMatchObject({
          outcome: 'started',
          composeId: whileTemporalDown.composeId,
          redelivered: true,
        });
        expect((await publishedRun(whileTemporalDown)).phase).toBe('done');
        expect(await drain(deadLetterQueue(queue))).toEqual([]);
      });
    } finally {
      await unreachable.connection.close();
    }
  });

  it('dead-letters, with its last error, a message that still fails after [amqp] max_redeliveries', async () => {
    const { whileTemporalDown } = composes;
    const unreachable = new Client({
      connection: Connection.lazy({ address: `127.0.0.1:${await freePort()}`, interceptors: [] }),
    });
    try {
      await withListener({ client: unreachable, amqp: 'max_redeliveries = 2' }, async ({ entries, publish, queue }) => {
        await publish(statusMessage(whileTemporalDown));
        await until(() => deliveries(entries).length >= 3, 'three attempts');
        expect(deliveries(entries).map((entry) => entry.outcome)).toEqual(['requeued', 'requeued', 'dead-lettered']);
        expect(deliveries(entries)[2]?.reason).toMatch(
          /^gave up after 3 attempts \(\[amqp\] max_redeliveries = 2\); the last: Temporal did not confirm the start/,
        );
        expect((await drain(deadLetterQueue(queue))).map((message) => message.body)).toEqual([
          JSON.stringify(statusMessage(whileTemporalDown)),
        ]);
        expect(await drain(queue)).toEqual([]);
      });
    } finally {
      await unreachable.connection.close();
    }
  });

  it('stops with an error naming the [amqp] key when the broker refuses the setup', async () => {
    const name = `listen-${randomUUID().slice(0, 8)}`;
    const noExchange = startListener({
      client: env.client,
      config: listenerConfig('unused', name, 'exchange = "no-such-exchange"'),
      log: () => {},
    });
    await expect(noExchange.done).rejects.toThrow(
      /\[amqp\]\.exchange "no-such-exchange" does not exist on amqp:\/\/guest:\*\*\*@127\.0\.0\.1/,
    );

    const connection = await connect(broker.url);
    await (await connection.createChannel()).assertQueue(name, { durable: false });
    await connection.close();
    const otherQueue = startListener({ client: env.client, config: listenerConfig('unused', name, ''), log: () => {} });
    await expect(otherQueue.done).rejects.toThrow(
      /\[amqp\]\.queue "listen-\w+" exists on .* with other settings \(.*PRECONDITION_FAILED.*\); delete the queue/,
    );
  });
});

interface ListenerHarness {
  entries: ListenerLogEntry[];
  listener: Listener;
  listen: (client: Client) => Promise<Listener>;
  queue: string;
  publish: (message: Record<string, unknown> | string) => Promise<void>;
}

function deliveries(entries: ListenerLogEntry[]): DeliveryLog[] {
  return entries.filter((entry): entry is DeliveryLog => 'outcome' in entry);
}

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(50);
  }
}
