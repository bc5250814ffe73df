import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import { ALLOWED_LOCATIONS_KEY, normalizeLocation, type AllowedLocations } from './domain/allowed-location.js';
import { parseSize } from './domain/byte-size.js';
import { CONFIG_REFERENCE, describeConfigIssue } from './config-issues.js';
import { DEFAULT_IMAGE_SELECTION } from './domain/image-selection.js';
import { WAIT_END_POLICIES, type PublishSettings } from './domain/settings.js';
import type { BrokerSettings } from './tools/broker-connection.js';
import { PUNGI_STATUSES } from './domain/pungi-status.js';
import type { SigningSettings } from './domain/signing.js';
import { unreadableFileReason } from './domain/unreadable-file.js';

/**
 * Arch images a run pushes at once, by default: twice the host's cores (pushing waits on the network and the
 * registry as much as on the CPU), at least 2 and at most 8.
 */
export const DEFAULT_PARALLEL_PUSHES = Math.min(8, Math.max(2, 2 * availableParallelism()));

/** A configuration problem the user must fix: names the file, the key and what is expected. Exit code 2. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const DURATION = /^\d+(ms|s|m|h|d)$/;
const waitEndPolicy = z.enum(WAIT_END_POLICIES, { message: `must be one of ${WAIT_END_POLICIES.join(', ')}` });
/** The architecture names of the OCI image spec (Go's GOARCH values): what index platforms and pull clients use. */
const OCI_ARCHITECTURES = [
  '386',
  'amd64',
  'arm',
  'arm64',
  'loong64',
  'mips',
  'mips64',
  'mips64le',
  'mipsle',
  'ppc64',
  'ppc64le',
  'riscv64',
  's390x',
  'wasm',
] as const;
const REGISTRY_URL = /^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/;
const ENV_PREFIX = /^[A-Z_][A-Z0-9_]*$/;

const registrySchema = z
  .object({
    url: z.string().regex(REGISTRY_URL, 'must be host[:port]/namespace, lowercase, e.g. "quay.io/fedora"'),
    credential_prefix: z
      .string()
      .regex(ENV_PREFIX, 'must be an environment variable prefix like "QUAY_IO_"')
      .optional(),
    tls_verify: z.boolean().default(true),
    cert_dir: z.string().min(1).optional(),
  })
  .strict();

/** Compiled at load, so a typo fails at start-up rather than on every message. */
const regexSource = z.string().superRefine((source, ctx) => {
  try {
    new RegExp(source);
  } catch (error) {
    ctx.addIssue({
      code: 'custom',
      message: `not a valid regular expression (${(error as Error).message}); JavaScript syntax, e.g. "^Fedora-4[0-9]-"`,
    });
  }
});

/** A compose location prefix: compared segment by segment after normalising (src/domain/allowed-location.ts). */
const locationPrefix = z
  .string()
  .refine(
    (prefix) => normalizeLocation(prefix) !== undefined,
    'must be an http(s):// URL or an absolute path, e.g. "https://kojipkgs.fedoraproject.org/compose/"',
  );

const amqpSchema = z
  .object({
    url: z
      .string()
      .regex(/^amqps?:\/\//, 'must be an amqp:// or amqps:// URL, e.g. "amqp://guest:guest@127.0.0.1:5672/%2F"'),
    exchange: z.string().min(1).default('amq.topic'),
    queue: z.string().min(1).default('compose-publisher'),
    routing_keys: z
      .array(z.string().min(1))
      .min(1, 'list at least one routing key')
      .default(['org.fedoraproject.*.pungi.compose.status.change']),
    statuses: z
      .array(
        z.enum(PUNGI_STATUSES, { message: `must be one of Pungi's compose statuses: ${PUNGI_STATUSES.join(', ')}` }),
      )
      .min(1, 'list at least one compose status, e.g. ["FINISHED"]')
      .default(['FINISHED', 'FINISHED_INCOMPLETE']),
    /** Empty: every compose id. */
    compose_id_patterns: z.array(regexSource).default([]),
    /** Deprecated: the old name of [compose] allowed_locations, still read (with a warning at start). */
    allowed_locations: z.array(locationPrefix).optional(),
    dead_letter_exchange: z.string().min(1).default('compose-publisher.dlx'),
    prefetch: z.number().int().min(1).max(1000).default(10),
    /** A message that keeps failing is requeued this many times (5 s apart), then dead-lettered with its last error. */
    max_redeliveries: z.number().int().min(0).max(100_000).default(120),
    topic_prefix: z.string().min(1).default('org.fedoraproject.prod'),
    /** Also announce each published index as the seed system did (fedora_image_uploader.published.v1.container). */
    seed_announcements: z.boolean().default(true),
    /** TLS with client certificates (Fedora's broker): PEM files, as fedora-messaging's [tls] ca_cert, certfile, keyfile. */
    ca_cert: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((amqp, ctx) => {
    if (Boolean(amqp.cert) !== Boolean(amqp.key))
      ctx.addIssue({
        code: 'custom',
        path: [amqp.cert ? 'key' : 'cert'],
        message: 'cert and key go together: set both (the client certificate and its private key) or neither',
      });
    if ((amqp.ca_cert || amqp.cert) && !amqp.url.startsWith('amqps://'))
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'certificates need TLS: use an amqps:// URL' });
  });

/**
 * [signing]: sign every published image and index with a cosign key, and verify it from the registry. Key-based only:
 * keyless signing (Fulcio, Rekor) would come as keys of its own, next to these. Checked for real at worker start
 * (src/activities/signing-key.ts): the key must decrypt and public_keys must hold its public key.
 */
const signingSchema = z
  .object({
    private_key: z
      .string()
      .min(1, 'must be the path of a cosign private key, e.g. "/etc/compose-publisher/cosign.key"'),
    passphrase_env: z
      .string()
      .regex(
        ENV_PREFIX,
        'must be the name of an environment variable of the worker that holds the passphrase, like "SIGSTORE_PASSPHRASE"',
      ),
    public_keys: z
      .array(z.string().min(1))
      .min(
        1,
        'list at least the private key\'s own public key, e.g. ["/etc/compose-publisher/cosign.pub"] (two during a key rotation)',
      ),
  })
  .strict();

export const configSchema = z
  .object({
    temporal: z
      .object({
        address: z.string().min(1).optional(),
        namespace: z.string().min(1).default('default'),
        task_queue: z.string().min(1).default('compose-publisher'),
        ui_port: z.number().int().positive().default(8233),
        /** mTLS (self-hosted clusters, Temporal Cloud with certificates): PEM file paths. */
        tls_cert: z.string().min(1).optional(),
        tls_key: z.string().min(1).optional(),
        /** A CA for the server certificate, when it is not signed by a public CA. */
        tls_ca: z.string().min(1).optional(),
        /** Name of the environment variable that holds an API key (Temporal Cloud); turns on TLS. */
        api_key_env: z
          .string()
          .regex(ENV_PREFIX, 'must be an environment variable name like "TEMPORAL_API_KEY"')
          .optional(),
        data_dir: z.string().min(1).default('.data'),
        /** At start, the worker creates the search attributes the namespace lacks (self-hosted: the operator service must allow it). */
        create_search_attributes: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    registries: z.array(registrySchema).min(1, 'list at least one [[registries]] entry'),
    repositories: z
      .record(z.string(), z.string().min(1))
      .refine((r) => Object.keys(r).length > 0, 'map at least one subvariant to a repository'),
    architectures: z
      .record(
        z.string(),
        z.enum(OCI_ARCHITECTURES, { message: `must be an OCI architecture name: ${OCI_ARCHITECTURES.join(', ')}` }),
      )
      .refine((a) => Object.keys(a).length > 0, 'map at least one compose arch to an OCI arch'),
    releases: z
      .object({
        latest: z.string().min(1).optional(),
        rawhide: z.string().min(1).optional(),
        /** The release versions this worker publishes ("43", "Rawhide"); a compose of any other is refused. Omitted: any. */
        allowed: z
          .array(z.string().min(1))
          .min(1, 'list at least one release version, e.g. ["42", "43", "Rawhide"], or leave allowed out')
          .optional(),
      })
      .strict()
      .prefault({}),
    images: z
      .object({
        /** productmd image types that are container images: "docker" (Fedora ≤ 41), "container" (Fedora 42+). */
        types: z
          .array(z.string().min(1))
          .min(1, 'list at least one productmd image type, e.g. ["docker", "container"]')
          .default([...DEFAULT_IMAGE_SELECTION.types]),
        /** Compose arches left out of publication and of the gate, e.g. ["armhfp"]. */
        ignore_arches: z.array(z.string().min(1)).default([]),
      })
      .strict()
      .prefault({}),
    gate: z
      .object({
        wait_for_override: z.string().regex(DURATION, 'must be a duration like "72h", "30m" or "90s"').default('72h'),
        /** What a blocked repository does when the wait runs out with no override: stay-blocked, or hybrid (by policy). */
        when_wait_ends: waitEndPolicy.default('stay-blocked'),
        /** Per repository (the names of [repositories]), over when_wait_ends. */
        when_wait_ends_for: z.record(z.string(), waitEndPolicy).default({}),
      })
      .strict()
      .prefault({}),
    staleness: z
      .object({
        /** How often the Schedule that `compose-publisher schedule` creates runs the staleness report. */
        every: z.string().regex(DURATION, 'must be a duration like "1h", "30m" or "1d"').default('1h'),
        /** An arch whose index image lags the repository's newest compose by this long is announced (once per crossing). */
        warn_after: z.string().regex(DURATION, 'must be a duration like "3d", "72h" or "90m"').default('3d'),
      })
      .strict()
      .prefault({}),
    publish: z
      .object({
        max_parallel_pushes: z.number().int().min(1).max(32).default(DEFAULT_PARALLEL_PUSHES),
        work_dir: z.string().min(1).default('.data/work'),
        /** The worker's image cache stays under this; least recently used archives go first, none in use. */
        cache_max_size: z
          .string()
          .refine((size) => parseSize(size) !== undefined, 'must be a size like "20GiB", "500MB" or a number of bytes')
          .default('20GiB'),
      })
      .strict()
      .prefault({}),
    worker: z
      .object({
        /** In-flight activities get this long to finish after SIGTERM/SIGINT; then they are cancelled and retried elsewhere. */
        shutdown_grace_time: z.string().regex(DURATION, 'must be a duration like "30s" or "5m"').default('30s'),
        max_concurrent_activities: z.number().int().min(1).max(256).default(8),
      })
      .strict()
      .prefault({}),
    metrics: z
      .object({ address: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port, e.g. "0.0.0.0:9464"') })
      .strict()
      .optional(),
    compose: z
      .object({
        /**
         * The location prefixes (http(s) URLs or absolute paths) workers read composes from and the listener starts
         * runs for; a run for any other location fails before anything is requested. Omitted: any location (the
         * worker warns at start; `listen` refuses to start).
         */
        allowed_locations: z
          .array(locationPrefix)
          .min(
            1,
            'list at least one prefix, e.g. ["https://kojipkgs.fedoraproject.org/compose/"], or leave allowed_locations out to accept any location',
          )
          .optional(),
      })
      .strict()
      .prefault({}),
    amqp: amqpSchema.optional(),
    signing: signingSchema.optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.compose.allowed_locations !== undefined && config.amqp?.allowed_locations !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['amqp', 'allowed_locations'],
        message: `is the deprecated name of ${ALLOWED_LOCATIONS_KEY}, which is set too: keep the prefixes in ${ALLOWED_LOCATIONS_KEY} only and remove this one`,
      });
    }
    const repositories = new Set(Object.values(config.repositories));
    for (const repository of Object.keys(config.gate.when_wait_ends_for)) {
      if (!repositories.has(repository)) {
        ctx.addIssue({
          code: 'custom',
          path: ['gate', 'when_wait_ends_for', repository],
          message: `is not a repository of [repositories] (${[...repositories].join(', ')}): name one of those`,
        });
      }
    }
  });

export type Config = z.infer<typeof configSchema> & { source: string };

/** Reads and validates a TOML config; every problem is reported with the file and the key. */
export function loadConfig(file: string): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason = unreadableFileReason(error);
    throw new ConfigError(
      `cannot read the config file ${resolve(file)}: ${reason}. Fix: pass --config (or set COMPOSE_PUBLISHER_CONFIG to) the path of a config file; start from ${CONFIG_REFERENCE}`,
    );
  }
  const config = parseConfig(text, file);
  checkCertDirs(config);
  return config;
}

/**
 * skopeo and buildah read a registry's cert_dir as: *.crt = CA certificates, *.cert + *.key = a client certificate.
 * A client certificate saved as .crt is silently taken for a CA and the registry then refuses us, so say so here.
 */
export function checkCertDirs(config: Config): void {
  config.registries.forEach((registry, index) => {
    if (!registry.cert_dir) return;
    const key = `[registries][${index}].cert_dir`;
    let files: string[];
    try {
      files = readdirSync(registry.cert_dir);
    } catch (error) {
      throw new ConfigError(
        `${config.source}: ${key} = "${registry.cert_dir}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
      );
    }
    for (const keyFile of files.filter((file) => file.endsWith('.key'))) {
      const stem = keyFile.slice(0, -'.key'.length);
      if (files.includes(`${stem}.cert`)) continue;
      const hint = files.includes(`${stem}.crt`)
        ? `rename ${stem}.crt to ${stem}.cert: skopeo reads *.crt as CA certificates and refuses .crt for client certificates`
        : `add the client certificate as ${stem}.cert`;
      throw new ConfigError(`${config.source}: ${key}: ${keyFile} has no matching ${stem}.cert; ${hint}`);
    }
  });
}

export function parseConfig(text: string, source: string): Config {
  let document: unknown;
  try {
    document = parseToml(text);
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    throw new ConfigError(`${source}: not valid TOML${where}: ${(error as Error).message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(document, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${describeConfigIssue(issue, configSchema)}`);
    throw new ConfigError(`${source}: invalid configuration\n${problems.join('\n')}`);
  }
  return { ...result.data, source };
}

const DEPRECATED_ALLOWED_LOCATIONS_KEY = '[amqp].allowed_locations';

/**
 * The compose location prefixes of this config and the key they are under: [compose] allowed_locations, or the
 * deprecated [amqp] allowed_locations of older configs (an empty old list counts as unset). Undefined: any location.
 */
export function allowedLocations(config: Config): AllowedLocations | undefined {
  if (config.compose.allowed_locations)
    return { prefixes: config.compose.allowed_locations, key: ALLOWED_LOCATIONS_KEY };
  const old = config.amqp?.allowed_locations;
  return old && old.length > 0 ? { prefixes: old, key: DEPRECATED_ALLOWED_LOCATIONS_KEY } : undefined;
}

/** What a worker or listener says at start about its config: deprecated keys, with the key to use instead. */
export function configWarnings(config: Config): string[] {
  const warnings: string[] = [];
  if (config.amqp?.allowed_locations !== undefined) {
    warnings.push(
      `${config.source}: ${DEPRECATED_ALLOWED_LOCATIONS_KEY} is deprecated; move it to ${ALLOWED_LOCATIONS_KEY} (one list for workers and listeners): [compose] allowed_locations = [...]`,
    );
  }
  return warnings;
}

/** [signing] of a worker, or undefined: nothing is signed. */
export function signingSettings(config: Config): SigningSettings | undefined {
  if (!config.signing) return undefined;
  return {
    privateKey: config.signing.private_key,
    passphraseEnv: config.signing.passphrase_env,
    publicKeys: config.signing.public_keys,
  };
}

/** How workers and listeners reach the broker of [amqp]. */
export function brokerSettings(amqp: NonNullable<Config['amqp']>): BrokerSettings {
  return {
    url: amqp.url,
    ...(amqp.ca_cert ? { caCert: amqp.ca_cert } : {}),
    ...(amqp.cert ? { cert: amqp.cert } : {}),
    ...(amqp.key ? { key: amqp.key } : {}),
  };
}

/** The slice of the config a run uses: the worker's, handed to each run by the workerSettings activity (recorded in its history). */
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
    images: { types: config.images.types, ignoreArches: config.images.ignore_arches },
    waitForOverride: config.gate.wait_for_override,
    ...hybridOnWaitEnd(config),
    stalenessWarnAfter: config.staleness.warn_after,
    maxParallelPushes: config.publish.max_parallel_pushes,
    ...(config.amqp
      ? {
          notifications: {
            exchange: config.amqp.exchange,
            topicPrefix: config.amqp.topic_prefix,
            seedAnnouncements: config.amqp.seed_announcements,
          },
        }
      : {}),
  };
}

/** The repositories whose policy at the end of the wait is hybrid (absent when none: runs of older workers had none). */
function hybridOnWaitEnd(config: Config): Pick<PublishSettings, 'hybridOnWaitEnd'> {
  const repositories = [...new Set(Object.values(config.repositories))].filter(
    (repository) => (config.gate.when_wait_ends_for[repository] ?? config.gate.when_wait_ends) === 'hybrid',
  );
  return repositories.length > 0 ? { hybridOnWaitEnd: repositories.sort() } : {};
}
