import { ConfigError } from '../config.js';
import { redactedUrl } from './log.js';
import type { AmqpSettings } from './topology.js';

/**
 * A refusal from the broker that reconnecting cannot fix (bad login, missing exchange, a queue that exists with
 * other arguments): a ConfigError naming the [amqp] key to fix. Undefined for anything worth a retry.
 */
export function refusal(error: unknown, amqp: AmqpSettings, source: string): ConfigError | undefined {
  const code = (error as { code?: unknown }).code;
  const text = error instanceof Error ? error.message : String(error);
  const broker = redactedUrl(amqp.url);
  if (/Handshake terminated by server: (403|530)/.test(text)) {
    return new ConfigError(
      `${source}: the broker at ${broker} refused the login or the vhost (${text}); check the user, password and vhost in [amqp].url`,
    );
  }
  if (code === 404) {
    // The listener declares its queues itself and only checks the exchange, so a 404 means the exchange.
    return new ConfigError(
      `${source}: [amqp].exchange "${amqp.exchange}" does not exist on ${broker} (${text}); fix the name, or have the publisher declare it first`,
    );
  }
  if (code === 406) {
    return new ConfigError(
      `${source}: [amqp].queue "${amqp.queue}" exists on ${broker} with other settings (${text}); delete the queue, or set another [amqp].queue or [amqp].dead_letter_exchange`,
    );
  }
  if (code === 403) {
    return new ConfigError(
      `${source}: the broker at ${broker} denied access (${text}); give the [amqp].url user configure/read/write permission on the queue and exchanges`,
    );
  }
  return undefined;
}
