// The one list of the search attributes this project writes. Workflow code upserts the typed keys (the shape
// defineSearchAttributeKey returns: workflow code imports only @temporalio/workflow and src/domain); the dev
// server registers them, the worker, `report` and `schedule` check the namespace for them, scripts/cluster.sh and
// the docker-compose stack create them, and test/unit/readme-search-attributes.test.ts keeps the README's list equal to this one.

/** The compose id a run publishes (filter: ComposeId = "Fedora-40-20240501.n.0"). */
export const COMPOSE_ID = { name: 'ComposeId', type: 'KEYWORD' } as const;
/** The release a run publishes (filter: `Release` = "40"; RELEASE is a reserved word, hence the backticks). */
export const RELEASE = { name: 'Release', type: 'KEYWORD' } as const;
/** The decisions of a run's repositories (filter: GateDecision = "blocked"). */
export const GATE_DECISION = { name: 'GateDecision', type: 'KEYWORD_LIST' } as const;
/** Repositories with an arch whose index image lags (filter: StaleRepositories = "fedora"). */
export const STALE_REPOSITORIES = { name: 'StaleRepositories', type: 'KEYWORD_LIST' } as const;

export const SEARCH_ATTRIBUTE_KEYS = [COMPOSE_ID, RELEASE, GATE_DECISION, STALE_REPOSITORIES] as const;

/** The SDK's type names as the Temporal CLI (`--type`, `--search-attribute Name=Type`) spells them. */
export const CLI_TYPE_NAMES = {
  TEXT: 'Text',
  KEYWORD: 'Keyword',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
} as const;

type Key = (typeof SEARCH_ATTRIBUTE_KEYS)[number];
type CliTypes = { readonly [K in Key as K['name']]: (typeof CLI_TYPE_NAMES)[K['type']] };

/** Name → type as the Temporal CLI spells it, e.g. { ComposeId: 'Keyword', …, StaleRepositories: 'KeywordList' }. */
export const SEARCH_ATTRIBUTES = Object.fromEntries(
  SEARCH_ATTRIBUTE_KEYS.map((key) => [key.name, CLI_TYPE_NAMES[key.type]]),
) as CliTypes;

/** The command that creates one of them in `namespace`. */
export function createSearchAttributeCommand(namespace: string, name: string): string {
  const type = (SEARCH_ATTRIBUTES as Record<string, string>)[name];
  if (!type) throw new Error(`${name} is not a search attribute of this project`);
  return `temporal operator search-attribute create --namespace ${namespace} --name ${name} --type ${type}`;
}

/** How the README lists them: "`ComposeId` (Keyword), `Release` (Keyword), … and `StaleRepositories` (KeywordList)". */
export function searchAttributesInProse(): string {
  const items = Object.entries(SEARCH_ATTRIBUTES).map(([name, type]) => `\`${name}\` (${type})`);
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

type VisibilityAttributes = Readonly<Record<string, unknown>> | undefined;

/** A Keyword attribute as a visibility listing returns it (a one-element array), or undefined. */
export function keywordOf(
  attributes: VisibilityAttributes,
  key: { name: string; type: 'KEYWORD' },
): string | undefined {
  const value = attributes?.[key.name];
  return Array.isArray(value) && typeof value[0] === 'string' ? value[0] : undefined;
}

/** A KeywordList attribute as a visibility listing returns it. */
export function keywordListOf(attributes: VisibilityAttributes, key: { name: string; type: 'KEYWORD_LIST' }): string[] {
  const value = attributes?.[key.name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
