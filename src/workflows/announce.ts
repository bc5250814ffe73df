import { isCancellation, uuid4 } from '@temporalio/workflow';
import { composeArchOf } from '../domain/arches.js';
import { notificationFor, seedAnnouncementFor } from '../domain/notification.js';
import type { PublishSettings } from '../domain/settings.js';
import { publishes, type RepositoryStatus } from '../domain/run-contract/index.js';
import { notify } from './activities.js';
import { failureMessage, type Run } from './run.js';

/**
 * Tells subscribers about a repository's decision. A broker that stays down past the retry budget does not fail
 * the run: the undelivered notification is kept in the result instead. Callers await it only when the run has
 * settings.notifications: even an await that schedules nothing reorders the commands of concurrent branches, and
 * runs started before notifications existed must replay unchanged.
 */
export async function announce(
  run: Run,
  current: RepositoryStatus,
  settings: NonNullable<PublishSettings['notifications']>,
): Promise<void> {
  const hybrid = current.decision === 'overridden' && current.override?.mode === 'hybrid';
  const architectures = publishes(current)
    ? hybrid
      ? [...current.built, ...current.missing].sort()
      : current.built
    : current.published;
  const index = {
    composeId: run.input.composeId,
    release: run.plan.release,
    repository: current.repository,
    decision: current.decision,
    registries: run.settings.registries.map((registry) => registry.url),
    tags: run.plan.manifestTags,
  };
  const notification = notificationFor(settings.topicPrefix, {
    ...index,
    architectures,
    missing: current.missing,
    ...(current.dropped ? { dropped: current.dropped } : {}),
    ...(current.override ? { override: current.override } : {}),
    ...(current.newerComposeId ? { newerComposeId: current.newerComposeId } : {}),
  });
  if (!notification) return;
  // Sent by the same activity as the decision message: no new command, so runs recorded before it replay unchanged.
  const seed = settings.seedAnnouncements
    ? seedAnnouncementFor(settings.topicPrefix, {
        ...index,
        architectures: architectures.map((arch) => composeArchOf(arch, run.settings.architectures)),
      })
    : undefined;
  try {
    await notify({ exchange: settings.exchange, notification, messageId: uuid4(), ...(seed ? { seed } : {}) });
  } catch (error) {
    if (isCancellation(error)) throw error;
    (run.status.undeliveredNotifications ??= []).push({
      repository: current.repository,
      topic: notification.topic,
      error: failureMessage(error),
    });
  }
}
