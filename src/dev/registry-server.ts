import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
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
  /** Serve HTTPS with this certificate. */
  tls?: { certificate: string; key: string };
  /** Bearer-token authentication: tokens from `realm`, signed by a key whose certificate chains to `rootCertBundle`. */
  token?: { realm: string; service: string; issuer: string; rootCertBundle: string };
}

export interface RegistryServer extends ServiceProcess {
  /** host:port, as image references use it. */
  host: string;
}

/** The distribution registry (`docker-registry serve`) on loopback, plain HTTP unless `tls` is given, deletes enabled. */
export async function startRegistry(options: RegistryOptions): Promise<RegistryServer> {
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? (await freePort());
  const host = `127.0.0.1:${port}`;
  const configFile = join(options.dataDir, 'registry.yml');
  writeFileSync(configFile, registryConfig(host, join(options.dataDir, 'storage'), options));
  const service = startService(
    'registry',
    'docker-registry',
    ['serve', configFile],
    join(options.dataDir, 'registry.log'),
  );
  await waitUntilReady(service, async () => {
    const status = await new Promise<number>((resolve, reject) =>
      (options.tls ? https : http)
        .get(`${options.tls ? 'https' : 'http'}://${host}/v2/`, { rejectUnauthorized: false }, (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        })
        .on('error', reject),
    );
    return status === 200 || status === 401;
  });
  return { name: service.name, logFile: service.logFile, stop: service.stop, host };
}

function registryConfig(host: string, storageDir: string, options: RegistryOptions): string {
  const { htpasswdFile, accessLog = false, tls, token } = options;
  const auth = htpasswdFile
    ? `auth:\n  htpasswd:\n    realm: compose-publisher-test\n    path: ${htpasswdFile}\n`
    : token
      ? `auth:\n  token:\n    realm: ${token.realm}\n    service: ${token.service}\n    issuer: ${token.issuer}\n    rootcertbundle: ${token.rootCertBundle}\n`
      : '';
  const serveTls = tls ? ['  tls:', `    certificate: ${tls.certificate}`, `    key: ${tls.key}`] : [];
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
    ...serveTls,
    auth,
  ].join('\n');
}
