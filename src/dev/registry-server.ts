import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startService, waitUntilReady, type ServiceProcess } from './child-process.js';
import { freePort } from './free-port.js';

export interface RegistryOptions {
  dataDir: string;
  port?: number;
  /** An htpasswd file with bcrypt hashes: turns on basic auth. */
  htpasswdFile?: string;
  /** Log every request to the registry's log file (the cluster tests count index writes there). */
  accessLog?: boolean;
}

export interface RegistryServer extends ServiceProcess {
  /** host:port, as image references use it. */
  host: string;
}

/** The distribution registry (`docker-registry serve`) on loopback, plain HTTP, deletes enabled. */
export async function startRegistry(options: RegistryOptions): Promise<RegistryServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const configFile = join(options.dataDir, 'registry.yml');
  writeFileSync(
    configFile,
    registryConfig(host, join(options.dataDir, 'storage'), options.htpasswdFile, options.accessLog),
  );
  const service = startService(
    'registry',
    'docker-registry',
    ['serve', configFile],
    join(options.dataDir, 'registry.log'),
  );
  await waitUntilReady(service, async () => {
    const response = await fetch(`http://${host}/v2/`);
    return response.status === 200 || response.status === 401;
  });
  return { name: service.name, logFile: service.logFile, stop: service.stop, host };
}

function registryConfig(host: string, storageDir: string, htpasswdFile?: string, accessLog = false): string {
  const auth = htpasswdFile ? `auth:\n  htpasswd:\n    realm: compose-publisher-test\n    path: ${htpasswdFile}\n` : '';
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    `    disabled: ${!accessLog}`,
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storageDir}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${host}`,
    auth,
  ].join('\n');
}
