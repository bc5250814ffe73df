import { Client, Connection } from '@temporalio/client';
import { CliError, EXIT } from './cli/exit-codes.js';
import type { Config } from './config.js';

/** Where the embedded dev server listens when [temporal] has no address. */
export const EMBEDDED_TEMPORAL = { ip: '127.0.0.1', port: 7233 } as const;

export function temporalAddress(config: Config): string {
  return config.temporal.address ?? `${EMBEDDED_TEMPORAL.ip}:${EMBEDDED_TEMPORAL.port}`;
}

/** A client for the configured Temporal, with an error that says what to start when nothing answers. */
export async function connectClient(config: Config): Promise<Client> {
  const address = temporalAddress(config);
  try {
    const connection = await Connection.connect({ address, connectTimeout: 5_000 });
    return new Client({ connection, namespace: config.temporal.namespace });
  } catch (error) {
    const hint = config.temporal.address
      ? `check [temporal].address in ${config.source}`
      : 'start `compose-publisher worker` first: without [temporal].address it runs an embedded Temporal server there';
    throw new CliError(`cannot reach Temporal at ${address} (${(error as Error).message}); ${hint}`, EXIT.failed);
  }
}
