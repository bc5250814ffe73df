import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { startService, waitUntilReady, type ServiceProcess } from './child-process.js';
import { freePort } from './free-port.js';
import { temporalCliPath } from './temporal-cli.js';
import { SEARCH_ATTRIBUTES } from '../domain/run-contract/search-attributes.js';

/** Search attributes every namespace this project uses must have (name → type): src/domain/run-contract/search-attributes.ts. */
export { SEARCH_ATTRIBUTES };

export interface DevServerOptions {
  dataDir: string;
  /** Default: a free port. */
  port?: number;
  /** Omit to run headless. */
  uiPort?: number;
  namespace?: string;
  /** Name → type (`Keyword`, `KeywordList`, …) to register; default: SEARCH_ATTRIBUTES. Tests leave some out. */
  searchAttributes?: Readonly<Record<string, string>>;
}

export interface DevServer extends ServiceProcess {
  address: string;
  namespace: string;
  uiUrl?: string;
}

/** `temporal server start-dev` on loopback with a SQLite file under dataDir and our search attributes. */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const namespace = options.namespace ?? 'default';
  const address = `127.0.0.1:${port}`;
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--db-filename',
    join(options.dataDir, 'temporal.sqlite'),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    ...Object.entries(options.searchAttributes ?? SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
      '--search-attribute',
      `${name}=${type}`,
    ]),
    ...(options.uiPort ? ['--ui-port', String(options.uiPort), '--ui-ip', '127.0.0.1'] : ['--headless']),
  ];
  const service = startService('Temporal dev server', temporalCliPath(), args, join(options.dataDir, 'temporal.log'));
  await waitUntilReady(service, () => namespaceReady(address, namespace));
  return {
    name: service.name,
    logFile: service.logFile,
    stop: service.stop,
    address,
    namespace,
    uiUrl: options.uiPort ? `http://127.0.0.1:${options.uiPort}` : undefined,
  };
}

async function namespaceReady(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await connection.close();
  }
}
