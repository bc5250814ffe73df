import { createHash } from 'node:crypto';
import type { Options } from 'amqplib';
import { DomainError } from '../domain/errors.js';
import { messageKindOf } from '../domain/message-schemas.js';
import type { Notification } from '../domain/notification.js';

/** One AMQP message, as fedora-messaging's Message would publish it. */
export interface FedoraMessage {
  topic: string;
  content: Buffer;
  options: Omit<Options.Publish, 'messageId' | 'headers'> & { messageId: string; headers: Record<string, unknown> };
}

/**
 * The message fedora_messaging.api.publish would send for this notification: its class's schema name and package,
 * severity, sent-at, priority and one filter header per container it names, JSON in UTF-8, persistent. A body that
 * breaks its schema is never sent.
 */
export function fedoraMessage(notification: Notification, messageId: string): FedoraMessage {
  const kind = messageKindOf(notification.topic);
  if (!kind)
    throw new DomainError(
      'InvalidNotification',
      `no message schema is defined for topic ${notification.topic}; this is a bug in compose-publisher`,
    );
  const parsed = kind.body.safeParse(notification.body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DomainError(
      'InvalidNotification',
      `the ${notification.topic} message breaks its schema ${kind.topic} at ${issue?.path.join('.') || 'its body'} (${issue?.message ?? 'invalid'}); this is a bug in compose-publisher`,
    );
  }
  const filters = Object.fromEntries(
    kind.containers(notification.body as never).map((name) => [`fedora_messaging_container_${name}`, true]),
  );
  return {
    topic: notification.topic,
    content: Buffer.from(JSON.stringify(notification.body), 'utf-8'),
    options: {
      messageId,
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      deliveryMode: 2,
      headers: {
        fedora_messaging_schema: kind.topic,
        fedora_messaging_schema_package: kind.schemaPackage,
        'sent-at': sentAt(new Date()),
        fedora_messaging_severity: kind.severity,
        priority: 0,
        ...filters,
      },
    },
  };
}

/** fedora-messaging's sent-at: UTC, whole seconds, "+00:00" (Python's isoformat). */
export function sentAt(now: Date): string {
  return `${now.toISOString().slice(0, 19)}+00:00`;
}

/** A UUID (version 5 layout) made from another message's id and a topic: the same inputs, the same id. */
export function derivedMessageId(messageId: string, topic: string): string {
  const hash = createHash('sha1').update(`${messageId}\n${topic}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
