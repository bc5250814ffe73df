import { join, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import type { Config } from '../config.js';
import { EMBEDDED_TEMPORAL, temporalAddress } from '../client/connection.js';
import { startTemporalDevServer } from './temporal-dev-server.js';

export interface TemporalEndpoint {
  address: string;
  uiUrl?: string;
  stop(): Promise<void>;
}

/**
 * The Temporal server to use: the configured one, or (no [temporal].address) the embedded dev server on
 * 127.0.0.1:7233 with its UI and a SQLite file under [temporal].data_dir. An embedded server that is already
 * running (another worker started it) is reused.
 */
export async function ensureTemporal(config: Config): Promise<TemporalEndpoint> {
  const address = temporalAddress(config);
  if (config.temporal.address) return { address, stop: async () => {} };
  const uiUrl = `http://${EMBEDDED_TEMPORAL.ip}:${config.temporal.ui_port}`;
  if (await answers(address)) return { address, uiUrl, stop: async () => {} };
  const server = await startTemporalDevServer({
    dataDir: join(resolve(config.temporal.data_dir), 'temporal'),
    port: EMBEDDED_TEMPORAL.port,
    uiPort: config.temporal.ui_port,
    namespace: config.temporal.namespace,
  });
  return { address, uiUrl, stop: () => server.stop() };
}

async function answers(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}
