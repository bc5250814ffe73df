import {
  SEED_TOPIC,
  type ContainerPublishedV1Body,
  type DecisionBody,
  type DecisionWord,
  type StaleBody,
} from './message-schemas.js';
import type { StalenessRow } from './staleness.js';
import type { OverrideRecord } from './override.js';
import type { ComposeArch, GateDecisionKind, OciArch } from './types.js';

/** The routing key word for each final decision; noop announces nothing (nothing changed). */
const DECISION_TOPIC: Partial<Record<GateDecisionKind, DecisionWord>> = {
  pass: 'published',
  blocked: 'blocked',
  overridden: 'overridden',
  superseded: 'superseded',
  skipped: 'skipped',
};

/** The index a message is about: one repository of a run, on every registry, under the run's index tags. */
export interface AnnouncedIndex {
  composeId: string;
  release: string;
  repository: string;
  decision: GateDecisionKind;
  registries: string[];
  tags: string[];
}

export interface NotificationInput extends AnnouncedIndex {
  /** Arches of the index as published now (built ones, plus carried ones for hybrid). */
  architectures: OciArch[];
  missing: OciArch[];
  dropped?: OciArch[];
  override?: OverrideRecord;
  newerComposeId?: string;
}

export interface Notification {
  /** <topic prefix>.<topic of its kind> (src/domain/message-schemas.ts). */
  topic: string;
  body: DecisionBody | StaleBody | ContainerPublishedV1Body;
}

/** The message announcing one repository's decision, or undefined when there is nothing to announce. */
export function notificationFor(topicPrefix: string, input: NotificationInput): Notification | undefined {
  const word = DECISION_TOPIC[input.decision];
  if (!word) return undefined;
  const body: DecisionBody = {
    compose_id: input.composeId,
    release: input.release,
    repository: input.repository,
    decision: word,
    registries: input.registries,
    tags: input.tags,
    architectures: input.architectures,
    missing_architectures: input.missing,
    ...(input.dropped ? { dropped_architectures: input.dropped } : {}),
    ...(input.override ? { override: input.override } : {}),
    ...(input.newerComposeId ? { newer_compose_id: input.newerComposeId } : {}),
  };
  return { topic: `${topicPrefix}.compose_publisher.container.${word}`, body };
}

/** The message announcing that an arch of an index crossed [staleness] warn_after (once per crossing). */
export function staleNotification(topicPrefix: string, row: StalenessRow): Notification {
  const body: StaleBody = {
    repository: row.repository,
    registry: row.registry,
    tag: row.tag,
    architecture: row.arch,
    served_compose_id: row.servedComposeId ?? null,
    newest_compose_id: row.newestComposeId ?? null,
    composes_behind: row.composesBehind,
    lag_days: row.lagDays,
    arch_tag_moved_on: row.archTagMovedOn,
  };
  return { topic: `${topicPrefix}.compose_publisher.container.stale`, body };
}

export interface SeedAnnouncementInput extends AnnouncedIndex {
  /** Compose arch names of the index as published now (built ones, plus carried ones for hybrid). */
  architectures: ComposeArch[];
}

/**
 * The seed system's announcement of a published index (fedora-image-uploader-messages' ContainerPublishedV1), so
 * its consumers keep working; undefined when the decision published nothing, or when the release is not a number
 * (the schema's release is an integer).
 */
export function seedAnnouncementFor(topicPrefix: string, input: SeedAnnouncementInput): Notification | undefined {
  if (input.decision !== 'pass' && input.decision !== 'overridden') return undefined;
  if (!/^[0-9]{1,9}$/.test(input.release)) return undefined;
  const body: ContainerPublishedV1Body = {
    architectures: [...input.architectures].sort(),
    compose_id: input.composeId,
    registries: input.registries,
    release: Number(input.release),
    repository: input.repository,
    tags: input.tags,
  };
  return { topic: `${topicPrefix}.${SEED_TOPIC}`, body };
}
