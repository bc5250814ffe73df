import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { ConfigError, type Config } from '../config.js';
import { ClientError } from './client-error.js';

/** Where the embedded dev server listens when [temporal] has no address. */
export const EMBEDDED_TEMPORAL = { ip: '127.0.0.1', port: 7233 } as const;

export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `${EMBEDDED_TEMPORAL.ip}:${EMBEDDED_TEMPORAL.port}`;
}

/**
 * Address, TLS and API key for a Temporal cluster or Temporal Cloud, for clients and workers alike.
 * The API key is read from the environment variable [temporal].api_key_env names, never from the file.
 */
export function connectionOptions(config: Config, env: NodeJS.ProcessEnv = process.env): Pick<ConnectionOptions, 'address' | 'tls'> & { apiKey?: string } {
  const { tls_cert, tls_key, tls_ca, api_key_env } = config.temporal;
  if (Boolean(tls_cert) !== Boolean(tls_key)) {
    throw new ConfigError(`${config.source}: [temporal] tls_cert and tls_key go together: set both (mTLS) or neither`);
  }
  const apiKey = api_key_env ? env[api_key_env] : undefined;
  if (api_key_env && !apiKey) throw new ConfigError(`${config.source}: [temporal].api_key_env = "${api_key_env}" but ${api_key_env} is not set`);
  const useTls = Boolean(tls_cert || tls_ca || apiKey);
  return {
    address: temporalAddress(config),
    ...(useTls
      ? {
          tls: {
            ...(tls_cert && tls_key ? { clientCertPair: { crt: readPem(config, 'tls_cert', tls_cert), key: readPem(config, 'tls_key', tls_key) } } : {}),
            ...(tls_ca ? { serverRootCACertificate: readPem(config, 'tls_ca', tls_ca) } : {}),
          },
        }
      : {}),
    ...(apiKey ? { apiKey } : {}),
  };
}

function readPem(config: Config, key: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${config.source}: [temporal].${key} = "${path}" cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** A client for the configured Temporal, with an error that says what to start when nothing answers. */
export async function connectClient(config: Config): Promise<Client> {
  const options = connectionOptions(config);
  try {
    const connection = await Connection.connect({ ...options, connectTimeout: 5_000 });
    return new Client({ connection, namespace: config.temporal.namespace });
  } catch (error) {
    const hint = config.temporal.address
      ? `check [temporal] address, tls_* and api_key_env in ${config.source}`
      : 'start `compose-publisher worker` first: without [temporal].address it runs an embedded Temporal server there';
    throw new ClientError('unreachable', `cannot reach Temporal at ${options.address} (${(error as Error).message}); ${hint}`);
  }
}
