import { Context } from '@temporalio/activity';
import { DomainError } from '../domain/errors.js';
import { NOTIFICATION_SCHEMA, type Notification } from '../domain/notification.js';
import { connectBroker } from '../tools/broker-connection.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';

export interface NotifyInput {
  exchange: string;
  notification: Notification;
  /** Made by the workflow, so a retried delivery carries the same id and consumers can drop the duplicate. */
  messageId: string;
}

/** Publishes one decision message (fedora-messaging compatible) and waits for the broker's confirm. */
export function makeNotify(environment: ActivityEnvironment) {
  return function notify(input: NotifyInput): Promise<void> {
    return translatingFailures(`announcing ${input.notification.topic}`, () => publishNotification(environment, input));
  };
}

async function publishNotification(environment: ActivityEnvironment, input: NotifyInput): Promise<void> {
  if (!environment.broker) {
    throw new DomainError('NotificationsNotConfigured', 'this worker has no [amqp] url in its config, so it cannot send notifications; add [amqp] url');
  }
  const connection = await connectBroker(environment.broker);
  try {
    const channel = await connection.createConfirmChannel();
    channel.publish(input.exchange, input.notification.topic, Buffer.from(JSON.stringify(input.notification.body)), {
      messageId: input.messageId,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      persistent: true,
      timestamp: Math.floor(Date.now() / 1000),
      headers: {
        fedora_messaging_schema: NOTIFICATION_SCHEMA,
        fedora_messaging_severity: 20,
        'sent-at': new Date().toISOString(),
      },
    });
    await channel.waitForConfirms();
    Context.current().log.info('notification sent', { topic: input.notification.topic, messageId: input.messageId });
  } finally {
    await connection.close().catch(() => undefined);
  }
}
