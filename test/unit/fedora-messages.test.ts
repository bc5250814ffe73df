import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, publishSettings } from '../../src/config.js';
import { CONTAINER_PUBLISHED_V1_BODY_SCHEMA, MESSAGE_KINDS, SEED_TOPIC } from '../../src/domain/message-schemas.js';
import {
  notificationFor,
  seedAnnouncementFor,
  staleNotification,
  type Notification,
  type NotificationInput,
} from '../../src/domain/notification.js';
import { policyOverride } from '../../src/domain/override.js';
import { derivedMessageId, fedoraMessage, sentAt } from '../../src/tools/fedora-message.js';
import { readAsConsumers, registeredSchemas, schemaShape, type Delivery } from '../support/fedora-messaging.js';

// The real fedora-messaging 3.9.1, fedora-image-uploader-messages 1.2.0 and messages/ (scripts/setup.sh's venv).

const PREFIX = 'org.fedoraproject.prod';
const REGISTRIES = ['quay.io/fedora', 'registry.fedoraproject.org'];

const decision: NotificationInput = {
  composeId: 'Fedora-41-20241027.0',
  release: '41',
  repository: 'fedora',
  decision: 'pass',
  registries: REGISTRIES,
  tags: ['41', 'latest'],
  architectures: ['amd64', 'arm64', 'ppc64le', 's390x'],
  missing: [],
};

function delivery(notification: Notification, messageId = '2c1b7d43-6a4e-4c8a-9a53-7f1f0d6a2e11'): Delivery {
  const message = fedoraMessage(notification, messageId);
  return {
    routing_key: message.topic,
    properties: {
      content_type: message.options.contentType!,
      content_encoding: message.options.contentEncoding!,
      delivery_mode: Number(message.options.deliveryMode),
      message_id: message.options.messageId,
      headers: message.options.headers,
    },
    body: message.content.toString('utf-8'),
  };
}

function must<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('expected a message');
  return value;
}

describe('the message schemas, against the Python classes Fedora consumers load', () => {
  it('defines every body as the registered class does, with its severity and package', async () => {
    const registry = await registeredSchemas();
    for (const kind of MESSAGE_KINDS) {
      const registered = registry[kind.topic];
      expect(registered, `${kind.topic} is registered under fedora.messages`).toBeDefined();
      expect(schemaShape(z.toJSONSchema(kind.body)), kind.topic).toEqual(schemaShape(registered!.body_schema));
      expect(registered!.severity, kind.topic).toBe(kind.severity);
      expect(registered!.package, kind.topic).toBe(kind.schemaPackage);
    }
    expect(registry[SEED_TOPIC]!.class).toBe('fedora_image_uploader_messages.publish.ContainerPublishedV1');
  });

  it('catches a body definition that drifts from the Python schema (release as a string)', async () => {
    const registry = await registeredSchemas();
    const drifted = CONTAINER_PUBLISHED_V1_BODY_SCHEMA.extend({ release: z.string() });
    expect(schemaShape(z.toJSONSchema(drifted))).not.toEqual(schemaShape(registry[SEED_TOPIC]!.body_schema));
  });
});

describe('every message, read by fedora_messaging.message.get_message', () => {
  const override = {
    repository: 'fedora',
    mode: 'publish-available' as const,
    reason: 's390x builder down',
    operator: 'alice',
    at: '2024-10-27T10:00:00.000Z',
  };
  const cases: Array<[string, Notification, string]> = [
    ['published', must(notificationFor(PREFIX, decision)), 'ContainerPublished'],
    [
      'blocked',
      must(
        notificationFor(PREFIX, {
          ...decision,
          decision: 'blocked',
          architectures: ['amd64', 's390x'],
          missing: ['s390x'],
        }),
      ),
      'ContainerBlocked',
    ],
    [
      'overridden',
      must(
        notificationFor(PREFIX, {
          ...decision,
          decision: 'overridden',
          missing: ['s390x'],
          dropped: ['s390x'],
          override,
        }),
      ),
      'ContainerOverridden',
    ],
    [
      'superseded',
      must(notificationFor(PREFIX, { ...decision, decision: 'superseded', newerComposeId: 'Fedora-41-20241028.0' })),
      'ContainerSuperseded',
    ],
    [
      'skipped',
      must(notificationFor(PREFIX, { ...decision, decision: 'skipped', override: { ...override, mode: 'skip' } })),
      'ContainerSkipped',
    ],
    [
      'stale',
      staleNotification(PREFIX, {
        repository: 'fedora',
        registry: 'quay.io/fedora',
        tag: '41',
        arch: 's390x',
        servedComposeId: 'Fedora-41-20241020.0',
        composesBehind: 3,
        lagDays: 7,
        archTagMovedOn: true,
        stale: true,
        overThreshold: true,
      }),
      'ContainerStale',
    ],
    [
      'stale, unknown composes',
      staleNotification(PREFIX, {
        repository: 'fedora',
        registry: 'quay.io/fedora',
        tag: '41',
        arch: 's390x',
        composesBehind: 0,
        lagDays: 0,
        archTagMovedOn: false,
        stale: false,
        overThreshold: true,
      }),
      'ContainerStale',
    ],
    [
      'seed, numbered release',
      must(seedAnnouncementFor(PREFIX, { ...decision, architectures: ['aarch64', 'ppc64le', 's390x', 'x86_64'] })),
      'ContainerPublishedV1',
    ],
    [
      'seed, Rawhide as its number',
      must(
        seedAnnouncementFor(PREFIX, {
          ...decision,
          composeId: 'Fedora-Rawhide-20241027.n.0',
          release: '42',
          tags: ['42', 'rawhide'],
          architectures: ['x86_64'],
        }),
      ),
      'ContainerPublishedV1',
    ],
    [
      'seed, hybrid by policy',
      must(
        seedAnnouncementFor(PREFIX, {
          ...decision,
          decision: 'overridden',
          architectures: ['aarch64', 's390x', 'x86_64'],
        }),
      ),
      'ContainerPublishedV1',
    ],
  ];

  it.each(cases)(
    '%s: parsed as its own class, valid, with the headers fedora-messaging writes',
    async (_name, notification, className) => {
      const sent = delivery(notification);
      const [read] = await readAsConsumers([sent]);
      if (!read?.valid) throw new Error(`not valid: ${JSON.stringify(read)}`);
      expect(read.class.endsWith(`.${className}`)).toBe(true);
      expect(read.warnings).toEqual([]);
      expect(read.topic).toBe(notification.topic);
      expect(read.id).toBe(sent.properties.message_id);
      const filters = Object.fromEntries(
        Object.entries(sent.properties.headers).filter(([key]) => key.startsWith('fedora_messaging_container_')),
      );
      expect(filters).toEqual(read.expected_headers);
      expect(read.containers.length).toBeGreaterThan(0);
      expect(sent.properties).toMatchObject({
        content_type: 'application/json',
        content_encoding: 'utf-8',
        delivery_mode: 2,
      });
      expect(sent.properties.headers).toMatchObject({
        fedora_messaging_schema: notification.topic.slice(PREFIX.length + 1),
        fedora_messaging_severity: read.severity,
        priority: 0,
      });
      expect(sent.properties.headers['sent-at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    },
  );

  it('names exactly the published containers in the seed announcement', async () => {
    const seed = must(seedAnnouncementFor(PREFIX, { ...decision, architectures: ['x86_64'] }));
    const [read] = await readAsConsumers([delivery(seed)]);
    expect(read?.valid && read.containers).toEqual([
      'quay.io/fedora/fedora:41',
      'quay.io/fedora/fedora:latest',
      'registry.fedoraproject.org/fedora:41',
      'registry.fedoraproject.org/fedora:latest',
    ]);
    expect(seed.body).toMatchObject({ release: 41 });
  });

  it('rejects a body that breaks the schema: fedora-messaging refuses it, and compose-publisher never sends it', async () => {
    const seed = must(seedAnnouncementFor(PREFIX, { ...decision, architectures: ['x86_64'] }));
    const broken = { ...seed, body: { ...seed.body, release: '41' } } as unknown as Notification;
    const sent = delivery(seed);
    const [read] = await readAsConsumers([{ ...sent, body: JSON.stringify(broken.body) }]);
    expect(read).toMatchObject({
      valid: false,
      error: expect.stringMatching(/'41' is not of type 'integer'/) as unknown,
    });
    expect(() => fedoraMessage(broken, 'id')).toThrow(/breaks its schema .* at release/);
  });

  it('announces on the seed topic only what publishes an index, and only a numbered release', () => {
    for (const kind of ['blocked', 'superseded', 'skipped', 'noop'] as const) {
      expect(seedAnnouncementFor(PREFIX, { ...decision, decision: kind, architectures: ['x86_64'] })).toBeUndefined();
    }
    expect(seedAnnouncementFor(PREFIX, { ...decision, release: 'eln', architectures: ['x86_64'] })).toBeUndefined();
    expect(policyOverride('fedora', 'now').mode).toBe('hybrid');
  });

  it('writes sent-at as Python does and derives a stable id for the second message of a delivery', () => {
    expect(sentAt(new Date('2024-10-27T10:11:12.345Z'))).toBe('2024-10-27T10:11:12+00:00');
    const id = derivedMessageId('2c1b7d43-6a4e-4c8a-9a53-7f1f0d6a2e11', `${PREFIX}.${SEED_TOPIC}`);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(derivedMessageId('2c1b7d43-6a4e-4c8a-9a53-7f1f0d6a2e11', `${PREFIX}.${SEED_TOPIC}`)).toBe(id);
    expect(derivedMessageId('another', `${PREFIX}.${SEED_TOPIC}`)).not.toBe(id);
  });
});

describe('[amqp] seed_announcements', () => {
  const config = (amqp: string) =>
    parseConfig(
      `[[registries]]\nurl = "quay.io/fedora"\n[repositories]\nContainer_Base = "fedora"\n[architectures]\nx86_64 = "amd64"\n[amqp]\nurl = "amqp://127.0.0.1:5672/%2F"\n${amqp}`,
      'seed.toml',
    );

  it('is on by default where [amqp] is set, and off when set to false', () => {
    expect(publishSettings(config('')).notifications).toMatchObject({ seedAnnouncements: true });
    expect(publishSettings(config('seed_announcements = false')).notifications).toMatchObject({
      seedAnnouncements: false,
    });
  });
});
