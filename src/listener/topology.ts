import type { Channel } from 'amqplib';
import type { Config } from '../config.js';

export type AmqpSettings = NonNullable<Config['amqp']>;

/** Where rejected messages wait for a person: `<queue>.dead`. */
export function deadLetterQueue(queue: string): string {
  return `${queue}.dead`;
}

/**
 * Declares what the listener consumes: the durable queue, bound to the exchange with every routing key, whose
 * rejected messages go through a direct dead-letter exchange (routed by queue name, so listeners with different
 * queues can share it) to `<queue>.dead`. The source exchange belongs to the publisher (Pungi): only checked.
 */
export async function declareTopology(channel: Channel, amqp: AmqpSettings): Promise<void> {
  const dead = deadLetterQueue(amqp.queue);
  await channel.checkExchange(amqp.exchange);
  await channel.assertExchange(amqp.dead_letter_exchange, 'direct', { durable: true });
  await channel.assertQueue(dead, { durable: true });
  await channel.bindQueue(dead, amqp.dead_letter_exchange, amqp.queue);
  await channel.assertQueue(amqp.queue, {
    durable: true,
    deadLetterExchange: amqp.dead_letter_exchange,
    deadLetterRoutingKey: amqp.queue,
  });
  for (const key of amqp.routing_keys) await channel.bindQueue(amqp.queue, amqp.exchange, key);
  await channel.prefetch(amqp.prefetch);
}
