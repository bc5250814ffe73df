import { z } from 'zod';

/** Where every key is shown with its meaning: what config errors point at. */
export const CONFIG_REFERENCE = 'config/fedora.toml (every key, commented) or config/local.toml (a local try)';

/** A line of each table the config cannot do without, to show when it is missing. */
const TABLE_EXAMPLES: Record<string, string> = {
  registries: '[[registries]]\n      url = "quay.io/fedora"',
  repositories: '[repositories]\n      Container_Base = "fedora"',
  architectures: '[architectures]\n      x86_64 = "amd64"',
};

/** One validation problem of a config, in a user's words: the key, what is wrong, and the fix. */
export function describeConfigIssue(issue: z.core.$ZodIssue, schema: z.ZodType): string {
  const where = keyPath(issue.path);
  if (issue.code === 'unrecognized_keys') {
    const known = keysAt(schema, issue.path) ?? [];
    return issue.keys
      .map((key) => {
        const near = nearest(key, known);
        const named = issue.path.length === 0 ? `[${key}]` : `${where}.${key}`;
        return `${named}: unknown ${issue.path.length === 0 ? 'table' : 'key'}${near ? `; did you mean ${issue.path.length === 0 ? `[${near}]` : near}?` : ''} (valid here: ${known.join(', ')}; see ${CONFIG_REFERENCE})`;
      })
      .join('\n  ');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined) {
    const last = issue.path[issue.path.length - 1];
    const example = issue.path.length === 1 ? TABLE_EXAMPLES[String(last)] : undefined;
    if (example) return `${where} is missing: add it, e.g.\n      ${example}\n    (see ${CONFIG_REFERENCE})`;
    return `${where} is missing: add ${String(last)} = … (see ${CONFIG_REFERENCE})`;
  }
  if (issue.code === 'invalid_type') return `${where}: expected ${issue.expected}, got ${describeValue(issue.input)}`;
  return `${where}: ${issue.message}`;
}

/** [table].key[0].sub, as a person would point at it in the TOML file. */
export function keyPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(top level)';
  const [table, ...rest] = path;
  let out = `[${String(table)}]`;
  for (const part of rest) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

function describeValue(value: unknown): string {
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 60))}`;
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a date';
  return typeof value === 'object' && value !== null ? 'a table' : `${typeof value} ${String(value)}`;
}

/** The keys the schema allows in the table at `path`, or undefined when that is not a table of fixed keys. */
export function keysAt(schema: z.ZodType, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  let current: z.ZodType | undefined = schema;
  for (const part of path) {
    current = unwrap(current);
    if (current instanceof z.ZodObject) current = (current.shape as Record<string, z.ZodType>)[String(part)];
    else if (current instanceof z.ZodArray && typeof part === 'number') current = current.element as z.ZodType;
    else if (current instanceof z.ZodRecord) current = current.valueType as z.ZodType;
    else return undefined;
    if (!current) return undefined;
  }
  current = unwrap(current);
  return current instanceof z.ZodObject ? Object.keys(current.shape) : undefined;
}

function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  while (current instanceof z.ZodOptional || current instanceof z.ZodDefault || current instanceof z.ZodPrefault)
    current = current.unwrap() as z.ZodType;
  return current;
}

/** The known name closest to `name` when it is a likely misspelling (a few edits away), else undefined. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const key of known) {
    const distance = editDistance(name.toLowerCase(), key.toLowerCase());
    if (!best || distance < best.distance) best = { key, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.key : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}

/** Every key the schema allows, as "table.key" ("registries.url" for an array of tables); records end the walk. */
export function allKeys(schema: z.ZodType, prefix = ''): string[] {
  const current = unwrap(schema);
  const inner = current instanceof z.ZodArray ? unwrap(current.element as z.ZodType) : current;
  if (!(inner instanceof z.ZodObject)) return prefix ? [prefix] : [];
  return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, value]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const child = unwrap(value);
    const table =
      child instanceof z.ZodObject ||
      (child instanceof z.ZodArray && unwrap(child.element as z.ZodType) instanceof z.ZodObject);
    return table ? allKeys(child, path) : [path];
  });
}
