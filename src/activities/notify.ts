import { Context } from '@temporalio/activity';
import { DomainError } from '../domain/errors.js';
import type { Notification } from '../domain/notification.js';
import { connectBroker } from '../tools/broker-connection.js';
import { derivedMessageId, fedoraMessage } from '../tools/fedora-message.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';

export interface NotifyInput {
  exchange: string;
  notification: Notification;
  /** Made by the workflow, so a retried delivery carries the same id and consumers can drop the duplicate. */
  messageId: string;
  /** The seed system's announcement of the same index (fedora_image_uploader.published.v1.container), sent after it. */
  seed?: Notification;
}

/** Publishes one decision message, and its seed announcement when there is one, and waits for the broker's confirms. */
export function makeNotify(environment: ActivityEnvironment) {
  return function notify(input: NotifyInput): Promise<void> {
    return translatingFailures(`announcing ${input.notification.topic}`, () => publishNotification(environment, input));
  };
}

async function publishNotification(environment: ActivityEnvironment, input: NotifyInput): Promise<void> {
  if (!environment.broker) {
    throw new DomainError(
      'NotificationsNotConfigured',
      'this worker has no [amqp] url in its config, so it cannot send notifications; add [amqp] url',
    );
  }
  // The seed's id is derived from the decision message's: a retried delivery repeats both ids.
  const messages = [
    fedoraMessage(input.notification, input.messageId),
    ...(input.seed ? [fedoraMessage(input.seed, derivedMessageId(input.messageId, input.seed.topic))] : []),
  ];
  const connection = await connectBroker(environment.broker);
  try {
    const channel = await connection.createConfirmChannel();
    for (const message of messages) channel.publish(input.exchange, message.topic, message.content, message.options);
    await channel.waitForConfirms();
    for (const message of messages)
      Context.current().log.info('notification sent', { topic: message.topic, messageId: message.options.messageId });
  } finally {
    await connection.close().catch(() => undefined);
  }
}
