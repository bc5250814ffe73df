import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DomainError } from '../domain/errors.js';
import type { RegistrySettings } from '../domain/settings.js';
import type { RegistryAccess } from '../tools/registry-access.js';
import { proxyEnvironment } from '../tools/proxy-environment.js';
import type { ActivityEnvironment } from './environment.js';

/** Each authfile lives in its own scratch/auth-XXXXXX directory; the worker sweeps leftovers at start. */
export const AUTHFILE_DIR_PREFIX = 'auth-';

/**
 * Runs `body` with access to one of this worker's registries, named by its url. Whatever the run asked for, the
 * registry's settings (tls, cert_dir, credential_prefix) come from the worker's own config, and a registry the
 * config does not list is refused: a run cannot send the worker's credentials anywhere else.
 * Credentials come from <credential_prefix>USER/PASSWORD in the worker's environment and reach the worker's own
 * registry requests in memory, and cosign only through a 0600 authfile that is removed afterwards: never through
 * workflow input, history, logs or process arguments. The proxy, if any, comes from the same environment.
 */
export async function withRegistryAccess<T>(
  registryUrl: string,
  environment: Pick<ActivityEnvironment, 'settings' | 'env' | 'scratchDir'>,
  body: (access: RegistryAccess) => Promise<T>,
): Promise<T> {
  const registry = environment.settings.registries.find((configured) => configured.url === registryUrl);
  if (!registry) {
    throw new DomainError(
      'UntrustedInput',
      `registry ${JSON.stringify(registryUrl.slice(0, 200))} is not one of this worker's [[registries]] (${environment.settings.registries.map((r) => r.url).join(', ')}); a run publishes only where the worker's config says`,
    );
  }
  const { env, scratchDir } = environment;
  const proxies = proxyEnvironment(env);
  const base = {
    tlsVerify: registry.tlsVerify,
    ...(registry.certDir ? { certDir: registry.certDir } : {}),
    ...(proxies ? { proxies } : {}),
  };
  const credentials = readCredentials(registry, env);
  if (!credentials) return body(base);
  const dir = await mkdtemp(join(scratchDir, AUTHFILE_DIR_PREFIX));
  const authfile = join(dir, 'auth.json');
  try {
    const auth = Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64');
    await writeFile(authfile, JSON.stringify({ auths: { [registryHost(registry.url)]: { auth } } }), { mode: 0o600 });
    return await body({ ...base, authfile, credentials });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function readCredentials(
  registry: RegistrySettings,
  env: NodeJS.ProcessEnv,
): { user: string; password: string } | undefined {
  const prefix = registry.credentialPrefix;
  if (!prefix) return undefined;
  const user = env[`${prefix}USER`];
  const password = env[`${prefix}PASSWORD`];
  if (user && password) return { user, password };
  const absent = [user ? undefined : `${prefix}USER`, password ? undefined : `${prefix}PASSWORD`]
    .filter(Boolean)
    .join(' and ');
  throw new DomainError(
    'MissingCredentials',
    `registry ${registry.url} has credential_prefix = "${prefix}" but ${absent} is not set in the worker's environment; set it, or remove credential_prefix for anonymous access`,
  );
}

export function registryHost(registryUrl: string): string {
  return registryUrl.split('/')[0]!;
}
