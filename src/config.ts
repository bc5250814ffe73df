import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import type { PublishSettings } from './domain/settings.js';

/** A configuration problem the user must fix: names the file, the key and what is expected. Exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DURATION = /^\d+(ms|s|m|h|d)$/;
const REGISTRY_URL = /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/;
const ENV_PREFIX = /^[A-Z_][A-Z0-9_]*$/;

const registrySchema = z
  .object({
    url: z.string().regex(REGISTRY_URL, 'must be host[:port]/namespace, lowercase, e.g. "quay.io/fedora"'),
    credential_prefix: z.string().regex(ENV_PREFIX, 'must be an environment variable prefix like "QUAY_IO_"').optional(),
    tls_verify: z.boolean().default(true),
    cert_dir: z.string().min(1).optional(),
  })
  .strict();

const configSchema = z
  .object({
    temporal: z
      .object({
        address: z.string().min(1).optional(),
        namespace: z.string().min(1).default('default'),
        task_queue: z.string().min(1).default('compose-publisher'),
        ui_port: z.number().int().positive().default(8233),
        data_dir: z.string().min(1).default('.data'),
      })
      .strict()
      .prefault({}),
    registries: z.array(registrySchema).min(1, 'list at least one [[registries]] entry'),
    repositories: z.record(z.string(), z.string().min(1)).refine((r) => Object.keys(r).length > 0, 'map at least one subvariant to a repository'),
    architectures: z.record(z.string(), z.string().min(1)).refine((a) => Object.keys(a).length > 0, 'map at least one compose arch to an OCI arch'),
    releases: z.object({ latest: z.string().min(1).optional(), rawhide: z.string().min(1).optional() }).strict().prefault({}),
    gate: z
      .object({ wait_for_override: z.string().regex(DURATION, 'must be a duration like "72h", "30m" or "90s"').default('72h') })
      .strict()
      .prefault({}),
    publish: z
      .object({
        max_parallel_pushes: z.number().int().min(1).max(32).default(2),
        work_dir: z.string().min(1).default('.data/work'),
      })
      .strict()
      .prefault({}),
    amqp: z.object({ url: z.string().min(1) }).loose().optional(),
  })
  .strict();

export type Config = z.infer<typeof configSchema> & { source: string };

/** Reads and validates a TOML config; every problem is reported with the file and the key. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read the config file (${(error as NodeJS.ErrnoException).code ?? String(error)}); pass --config or set COMPOSE_PUBLISHER_CONFIG`);
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, source: string): Config {
  let document: unknown;
  try {
    document = parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    throw new ConfigError(`${source}: not valid TOML${where}: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(document);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${keyPath(issue.path)}: ${describeIssue(issue)}`);
    throw new ConfigError(`${source}: invalid configuration\n${problems.join('\n')}`);
  }
  return { ...result.data, source };
}

/** The slice of the config a run carries in its workflow input. */
export function publishSettings(config: Config): PublishSettings {
  return {
    registries: config.registries.map((r) => ({
      url: r.url,
      tlsVerify: r.tls_verify,
      ...(r.credential_prefix ? { credentialPrefix: r.credential_prefix } : {}),
      ...(r.cert_dir ? { certDir: r.cert_dir } : {}),
    })),
    repositories: config.repositories,
    architectures: config.architectures,
    releases: config.releases,
    waitForOverride: config.gate.wait_for_override,
    maxParallelPushes: config.publish.max_parallel_pushes,
  };
}

function keyPath(path: ReadonlyArray<PropertyKey>): string {
  if (path.length === 0) return '(top level)';
  const [table, ...rest] = path;
  let out = `[${String(table)}]`;
  for (const part of rest) out += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (check the spelling against DESIGN.md)`;
  if (issue.code === 'invalid_type' && issue.input === undefined) return `missing: expected ${issue.expected}`;
  return issue.message;
}
