import type { StalenessRow } from './staleness.js';
import type { OverrideRecord } from './override.js';
import type { GateDecisionKind, OciArch } from './types.js';

/** The routing key word for each final decision; noop announces nothing (nothing changed). */
const DECISION_TOPIC: Partial<Record<GateDecisionKind, string>> = {
  pass: 'published',
  blocked: 'blocked',
  overridden: 'overridden',
  superseded: 'superseded',
  skipped: 'skipped',
};

export const NOTIFICATION_SCHEMA = 'compose_publisher.container.v1';

export interface NotificationInput {
  composeId: string;
  release: string;
  repository: string;
  decision: GateDecisionKind;
  registries: string[];
  tags: string[];
  /** Arches of the index as published now (built ones, plus carried ones for hybrid). */
  architectures: OciArch[];
  missing: OciArch[];
  dropped?: OciArch[];
  override?: OverrideRecord;
  newerComposeId?: string;
}

export interface Notification {
  topic: string;
  body: Record<string, unknown>;
}

/** The message announcing one repository's decision, or undefined when there is nothing to announce. */
export function notificationFor(topicPrefix: string, input: NotificationInput): Notification | undefined {
  const word = DECISION_TOPIC[input.decision];
  if (!word) return undefined;
  return {
    topic: `${topicPrefix}.compose_publisher.container.${word}`,
    body: {
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
    },
  };
}

/** The message announcing that an arch of an index crossed [staleness] warn_after (once per crossing). */
export function staleNotification(topicPrefix: string, row: StalenessRow): Notification {
  return {
    topic: `${topicPrefix}.compose_publisher.container.stale`,
    body: {
      repository: row.repository,
      registry: row.registry,
      tag: row.tag,
      architecture: row.arch,
      served_compose_id: row.servedComposeId ?? null,
      newest_compose_id: row.newestComposeId ?? null,
      composes_behind: row.composesBehind,
      lag_days: row.lagDays,
      arch_tag_moved_on: row.archTagMovedOn,
    },
  };
}
