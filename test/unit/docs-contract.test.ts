// The docs are checked against the code, not against memory: every config key, table, CLI command and flag,
// and file they name must exist, and every config key must be shown in config/fedora.toml.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { allKeys } from '../../src/config-issues.js';
import { configSchema, parseConfig } from '../../src/config.js';
import { OWN_SCHEMA_PACKAGE } from '../../src/domain/message-schemas.js';
import { CLI } from '../support/cli.js';

const DOCS = [
  'README.md',
  'messages/README.md',
  ...readdirSync('docs')
    .filter((file) => file.endsWith('.md'))
    .map((file) => `docs/${file}`),
];
const text = (file: string) => readFileSync(file, 'utf8');
const SCHEMA_KEYS = allKeys(configSchema);
const TABLES = new Set(SCHEMA_KEYS.map((key) => key.split('.')[0]!));

/** "[table] key" and "[table].key" as the docs write them (also inside backticks). */
export function configKeysNamed(markdown: string): string[] {
  return [...markdown.matchAll(/\[\[?([a-z_]+)\]\]?(?:[ .]`?([a-z][a-z_]*))?/g)].map((match) =>
    match[2] ? `${match[1]}.${match[2]}` : match[1]!,
  );
}

/** Each `table.key` that config/fedora.toml sets or shows commented out (`# key = …`), by the section it is under. */
function keysShownIn(toml: string): Set<string> {
  const shown = new Set<string>();
  let section = '';
  for (const line of toml.split('\n')) {
    const header = /^\s*\[\[?([a-z_.]+)\]\]?/.exec(line);
    if (header) {
      section = header[1]!;
      shown.add(section);
      continue;
    }
    const key = /^\s*#?\s*([a-z][a-z_]*)\s*=/.exec(line);
    if (key && section) shown.add(`${section}.${key[1]}`);
  }
  return shown;
}

describe('the config examples', () => {
  it('config/fedora.toml shows every key of the schema, and every key it shows is one', () => {
    const shown = keysShownIn(text('config/fedora.toml'));
    expect(SCHEMA_KEYS.filter((key) => !shown.has(key))).toEqual([]);
    // Repositories and arch maps are tables of the user's own names.
    expect(
      [...shown].filter(
        (key) =>
          !SCHEMA_KEYS.includes(key) &&
          !TABLES.has(key) &&
          !/^(repositories|architectures|gate\.when_wait_ends_for)\./.test(key),
      ),
    ).toEqual([]);
  });

  it('config/fedora.toml and config/local.toml are valid configs', () => {
    expect(parseConfig(text('config/fedora.toml'), 'config/fedora.toml').amqp?.seed_announcements).toBe(true);
    expect(parseConfig(text('config/local.toml'), 'config/local.toml').temporal.address).toBeUndefined();
  });
});

describe.each(DOCS)('%s', (file) => {
  const markdown = text(file);

  it('names only config tables and keys that exist', () => {
    const unknown = configKeysNamed(markdown).filter((key) =>
      key.includes('.') ? !SCHEMA_KEYS.includes(key) && !TABLES.has(key) : !TABLES.has(key),
    );
    // Tables whose keys are the user's own names ([repositories] Container_Base) are not keys of the schema.
    expect(
      unknown.filter((key) => !/^(repositories|architectures)\./.test(key) && !/^gate\.when_wait_ends_for$/.test(key)),
    ).toEqual([]);
  });

  it('names only files that exist in the repository', () => {
    const paths = [
      ...markdown.matchAll(
        /`((?:\.\.\/)?(?:src|docs|config|scripts|test|bench|deploy|messages|bin|shared)\/[A-Za-z0-9_./-]+)`/g,
      ),
    ].map((match) => match[1]!);
    // Written by setup for the docker-compose stack, never committed (.gitignore).
    const generated = new Set(['deploy/registry-credentials.env']);
    expect(paths.filter((path) => !generated.has(path) && !existsSync(path))).toEqual([]);
  });

  it('names only metrics the worker registers', () => {
    const metrics = [...new Set([...markdown.matchAll(/\b(compose_publisher_[a-z_]+)/g)].map((match) => match[1]!))];
    // compose_publisher_messages is the schema package of messages/, not a metric.
    expect(metrics.filter((metric) => !REGISTERED_METRICS.has(metric) && metric !== OWN_SCHEMA_PACKAGE)).toEqual([]);
  });

  it('names only commands and flags that `--help` lists, in its code', async () => {
    const used = codeOf(markdown).flatMap((code) =>
      [
        ...code.matchAll(
          /(?:^|npx |\$ )compose-publisher(?:[ \t]+(?:--config|-c|--log-level)[ \t]+\S+)*[ \t]+([a-z][a-z-]*)([^\n]*)/gm,
        ),
      ].map((match) => ({
        command: match[1]!,
        flags: [...match[2]!.matchAll(/(?:^|\s)(--[a-z-]+)/g)].map((flag) => flag[1]!),
      })),
    );
    expect(
      used.filter(({ command }) => !COMMANDS.has(command)).map(({ command }) => command),
      file,
    ).toEqual([]);
    for (const { command, flags } of used) {
      const help = await helpOf(command);
      for (const flag of flags) expect(help, `${file}: compose-publisher ${command} ${flag}`).toContain(flag);
    }
  }, 60_000);
});

/** Every metric the code registers: the names given to the SDK meter's createCounter, createGauge and createHistogram. */
const REGISTERED_METRICS = new Set(
  readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .flatMap((file) =>
      [...text(`src/${file}`).matchAll(/create(?:Counter|Gauge|Histogram)\(\s*'([a-z_]+)'/g)].map((match) => match[1]!),
    ),
);

const COMMANDS = new Set(['worker', 'listen', 'publish', 'status', 'list', 'override', 'demo', 'report', 'schedule']);

/** Fenced code blocks and inline code spans: where the docs give commands to run. */
function codeOf(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/^```[a-z]*\n([\s\S]*?)^```/gm)].map((match) => match[1]!);
  const prose = markdown.replace(/^```[a-z]*\n[\s\S]*?^```/gm, '');
  return [...fenced, ...[...prose.matchAll(/`([^`\n]+)`/g)].map((match) => match[1]!)];
}

const helps = new Map<string, Promise<string>>();
function helpOf(command: string): Promise<string> {
  if (!helps.has(command))
    helps.set(
      command,
      execa('node', [CLI, command, '--help'], { reject: false }).then((result) => `${result.stdout}\n${result.stderr}`),
    );
  return helps.get(command)!;
}

describe('the docs check', () => {
  it('catches a key that is not there, a missing file and an unknown flag', () => {
    expect(
      configKeysNamed('set `[publish] work_directory` and [amqp].url').filter((key) => !SCHEMA_KEYS.includes(key)),
    ).toEqual(['publish.work_directory']);
    expect(existsSync('docs/no-such-file.md')).toBe(false);
  });
});
