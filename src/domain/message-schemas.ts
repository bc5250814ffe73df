import { z } from 'zod';
import { OVERRIDE_MODES } from './override.js';

/*
 * The bodies of every message compose-publisher sends: the one definition. The Python classes of messages/
 * (compose-publisher-messages) and fedora-image-uploader-messages' ContainerPublishedV1 are compared with these
 * schemas by the tests, so the two sides cannot drift.
 */

/** fedora-messaging's severities (fedora_messaging.message.DEBUG … ERROR). */
export const SEVERITY = { debug: 10, info: 20, warning: 30, error: 40 } as const;
export type Severity = (typeof SEVERITY)[keyof typeof SEVERITY];

/** The topic word of each decision message: compose_publisher.container.<word>. */
export const DECISION_WORDS = ['published', 'blocked', 'overridden', 'superseded', 'skipped'] as const;
export type DecisionWord = (typeof DECISION_WORDS)[number];

const names = z.array(z.string());

function decisionBodySchema<W extends DecisionWord>(word: W) {
  return z.object({
    compose_id: z.string(),
    /** The release as the run publishes it ("40"; Rawhide as its configured number). */
    release: z.string(),
    repository: z.string(),
    decision: z.literal(word),
    /** Each registry's URL as configured (host/namespace). */
    registries: names,
    /** The index tags (40, latest, rawhide…). */
    tags: names,
    /** OCI arch names of the index as it stands after this decision. */
    architectures: names,
    missing_architectures: names,
    dropped_architectures: names.optional(),
    override: z
      .object({
        repository: z.string(),
        mode: z.enum(OVERRIDE_MODES),
        reason: z.string(),
        operator: z.string(),
        at: z.string(),
      })
      .optional(),
    newer_compose_id: z.string().optional(),
  });
}

export const DECISION_BODY_SCHEMAS = {
  published: decisionBodySchema('published'),
  blocked: decisionBodySchema('blocked'),
  overridden: decisionBodySchema('overridden'),
  superseded: decisionBodySchema('superseded'),
  skipped: decisionBodySchema('skipped'),
};
export type DecisionBody = z.infer<(typeof DECISION_BODY_SCHEMAS)[DecisionWord]>;

export const STALE_BODY_SCHEMA = z.object({
  repository: z.string(),
  registry: z.string(),
  tag: z.string(),
  /** OCI arch name. */
  architecture: z.string(),
  served_compose_id: z.string().nullable(),
  newest_compose_id: z.string().nullable(),
  composes_behind: z.number().int(),
  lag_days: z.number(),
  arch_tag_moved_on: z.boolean(),
});
export type StaleBody = z.infer<typeof STALE_BODY_SCHEMA>;

/** fedora-image-uploader-messages 1.2.0, ContainerPublishedV1: what the seed system's consumers read. */
export const CONTAINER_PUBLISHED_V1_BODY_SCHEMA = z.object({
  /** Compose arch names (x86_64, aarch64…). */
  architectures: names,
  compose_id: z.string(),
  registries: names,
  release: z.number().int(),
  repository: z.string(),
  tags: names,
});
export type ContainerPublishedV1Body = z.infer<typeof CONTAINER_PUBLISHED_V1_BODY_SCHEMA>;

/** The seed system's topic (after the topic prefix) and schema name. */
export const SEED_TOPIC = 'fedora_image_uploader.published.v1.container';

/** How one kind of message is sent: what fedora-messaging's Message subclass would write for it. */
export interface MessageKind {
  /** The topic after the prefix; also the schema name its class is registered under (entry point fedora.messages). */
  topic: string;
  /** The Python distribution that defines the class, as fedora-messaging names it (underscores). */
  schemaPackage: string;
  severity: Severity;
  body: z.ZodType;
  /** The class's `containers`: one filter header fedora_messaging_container_<name> each. */
  containers(body: never): string[];
}

export const OWN_SCHEMA_PACKAGE = 'compose_publisher_messages';

const registryNames = (body: { registries: string[]; repository: string; tags: string[] }) =>
  body.registries.flatMap((registry) => body.tags.map((tag) => `${registry}/${body.repository}:${tag}`));

const decisionKind = (word: DecisionWord, severity: Severity): MessageKind => ({
  topic: `compose_publisher.container.${word}`,
  schemaPackage: OWN_SCHEMA_PACKAGE,
  severity,
  body: DECISION_BODY_SCHEMAS[word],
  containers: (body: DecisionBody) => registryNames(body),
});

export const MESSAGE_KINDS: readonly MessageKind[] = [
  decisionKind('published', SEVERITY.info),
  decisionKind('blocked', SEVERITY.warning),
  decisionKind('overridden', SEVERITY.info),
  decisionKind('superseded', SEVERITY.info),
  decisionKind('skipped', SEVERITY.info),
  {
    topic: 'compose_publisher.container.stale',
    schemaPackage: OWN_SCHEMA_PACKAGE,
    severity: SEVERITY.warning,
    body: STALE_BODY_SCHEMA,
    containers: (body: StaleBody) => [`${body.registry}/${body.repository}:${body.tag}`],
  },
  {
    topic: SEED_TOPIC,
    schemaPackage: 'fedora_image_uploader_messages',
    severity: SEVERITY.info,
    body: CONTAINER_PUBLISHED_V1_BODY_SCHEMA,
    containers: (body: ContainerPublishedV1Body) => registryNames(body),
  },
];

/** The kind of a message by its full topic (<prefix>.<kind topic>), or undefined for a topic this project never sends. */
export function messageKindOf(topic: string): MessageKind | undefined {
  return MESSAGE_KINDS.find((kind) => topic === kind.topic || topic.endsWith(`.${kind.topic}`));
}
