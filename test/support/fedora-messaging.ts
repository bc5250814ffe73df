import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsumeMessage } from 'amqplib';
import amqp from 'amqplib';
import { execa } from 'execa';

/** The venv scripts/setup.sh fills with fedora-messaging, fedora-image-uploader-messages and messages/. */
const PYTHON = join(import.meta.dirname, '../../.tools/messaging-venv/bin/python');
const PROBE = join(import.meta.dirname, 'fedora_messaging_probe.py');

/** One delivery as the broker handed it over, in the shape the probe passes to fedora-messaging. */
export interface Delivery {
  routing_key: string;
  properties: {
    content_type?: string;
    content_encoding?: string;
    delivery_mode?: number;
    message_id?: string;
    headers: Record<string, unknown>;
  };
  body: string;
}

/** What fedora_messaging.message.get_message made of a delivery. */
export type ReadMessage =
  | {
      valid: true;
      class: string;
      topic: string;
      id: string;
      severity: number;
      app_name: string;
      summary: string;
      text: string;
      containers: string[];
      expected_headers: Record<string, boolean>;
      warnings: string[];
    }
  | { valid: false; error: string; warnings: string[] };

export interface RegisteredSchema {
  class: string;
  severity: number;
  body_schema: Record<string, unknown>;
  package: string | null;
}

async function probe(args: string[], input: string, env: Record<string, string> = {}): Promise<string> {
  const { stdout } = await execa(PYTHON, [PROBE, ...args], { input, env });
  return stdout;
}

/** The registry of message classes fedora-messaging loads from its entry points. */
export async function registeredSchemas(): Promise<Record<string, RegisteredSchema>> {
  return JSON.parse(await probe(['schemas'], '')) as Record<string, RegisteredSchema>;
}

/** Each delivery parsed and validated by fedora_messaging.message.get_message, as Fedora's consumers do. */
export async function readAsConsumers(deliveries: Delivery[]): Promise<ReadMessage[]> {
  return JSON.parse(await probe(['read'], JSON.stringify(deliveries))) as ReadMessage[];
}

/** Publishes `body` on `topic` with fedora_messaging.api.publish (as Pungi does), to the broker at `amqpUrl`. */
export async function publishAsPungi(options: {
  amqpUrl: string;
  topicPrefix: string;
  topic: string;
  body: unknown;
  dir: string;
}): Promise<void> {
  const conf = join(options.dir, 'fedora-messaging.toml');
  writeFileSync(
    conf,
    `amqp_url = ${JSON.stringify(options.amqpUrl)}\ntopic_prefix = ${JSON.stringify(options.topicPrefix)}\npublish_exchange = "amq.topic"\n`,
  );
  await probe(['publish', options.topic], JSON.stringify(options.body), { FEDORA_MESSAGING_CONF: conf });
}

export function asDelivery(message: ConsumeMessage): Delivery {
  const { properties } = message;
  return {
    routing_key: message.fields.routingKey,
    properties: {
      ...(properties.contentType ? { content_type: String(properties.contentType) } : {}),
      ...(properties.contentEncoding ? { content_encoding: String(properties.contentEncoding) } : {}),
      ...(properties.deliveryMode ? { delivery_mode: Number(properties.deliveryMode) } : {}),
      ...(properties.messageId ? { message_id: String(properties.messageId) } : {}),
      headers: properties.headers ?? {},
    },
    body: message.content.toString('utf-8'),
  };
}

/** A queue bound to `bindingKey` on amq.topic that keeps every delivery, until close(). */
export async function recordDeliveries(
  amqpUrl: string,
  bindingKey: string,
): Promise<{ deliveries: ConsumeMessage[]; close(): Promise<void> }> {
  const connection = await amqp.connect(amqpUrl);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, 'amq.topic', bindingKey);
  const deliveries: ConsumeMessage[] = [];
  await channel.consume(
    queue,
    (message) => {
      if (message) deliveries.push(message);
    },
    { noAck: true },
  );
  return { deliveries, close: () => connection.close() };
}

/**
 * A JSON schema reduced to what a body must be: types, items, const, enum, properties and the required set.
 * Descriptions, ids, the draft and zod's integer bounds and additionalProperties are dropped.
 */
export function schemaShape(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(schemaShape);
  if (schema === null || typeof schema !== 'object') return schema;
  const dropped = new Set([
    'description',
    'id',
    '$id',
    '$schema',
    'title',
    'additionalProperties',
    'minimum',
    'maximum',
  ]);
  const entries = Object.entries(schema as Record<string, unknown>)
    .filter(([key]) => !dropped.has(key))
    .map(
      ([key, value]) =>
        [
          key,
          key === 'required' && Array.isArray(value)
            ? [...(value as string[])].sort()
            : key === 'properties'
              ? sortedShape(value)
              : schemaShape(value),
        ] as const,
    );
  return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)));
}

function sortedShape(properties: unknown): unknown {
  return Object.fromEntries(
    Object.entries(properties as Record<string, unknown>)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => [key, schemaShape(value)]),
  );
}
