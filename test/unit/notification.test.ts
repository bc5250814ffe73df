import { describe, expect, it } from 'vitest';
import { notificationFor, type NotificationInput } from '../../src/domain/notification.js';

const base: NotificationInput = {
  composeId: 'Fedora-40-20240502.n.0',
  release: '40',
  repository: 'fedora',
  decision: 'pass',
  registries: ['quay.io/fedora'],
  tags: ['40', 'latest'],
  architectures: ['amd64', 'arm64'],
  missing: [],
};

describe('notificationFor', () => {
  it.each([
    ['pass', 'published'],
    ['blocked', 'blocked'],
    ['overridden', 'overridden'],
    ['superseded', 'superseded'],
    ['skipped', 'skipped'],
  ] as const)('routes %s as %s', (decision, word) => {
    const notification = notificationFor('org.fedoraproject.prod', { ...base, decision });
    expect(notification?.topic).toBe(`org.fedoraproject.prod.compose_publisher.container.${word}`);
    expect((notification?.body as { decision?: string } | undefined)?.decision).toBe(word);
  });

  it('announces nothing for a noop', () => {
    expect(notificationFor('org.fedoraproject.prod', { ...base, decision: 'noop' })).toBeUndefined();
  });

  it('carries the override and the dropped arches', () => {
    const override = {
      repository: 'fedora',
      mode: 'publish-available' as const,
      reason: 'r',
      operator: 'alice',
      at: '2024-05-02T00:00:00.000Z',
    };
    const notification = notificationFor('p', {
      ...base,
      decision: 'overridden',
      missing: ['s390x'],
      dropped: ['s390x'],
      override,
    });
    expect(notification?.body).toMatchObject({
      missing_architectures: ['s390x'],
      dropped_architectures: ['s390x'],
      override,
    });
  });
});
