import type { ProxyEnvironment } from './proxy-environment.js';

/** How to reach one registry: credentials by authfile for the tools, never on a command line. */
export interface RegistryAccess {
  /** A docker-style auth.json (0600), or undefined for anonymous access. */
  authfile?: string;
  /** The same credentials, for the registry requests the worker makes itself (src/tools/registry-http.ts). */
  credentials?: { user: string; password: string };
  tlsVerify: boolean;
  /** A directory with client certificates (*.cert/*.key) and CA certificates (*.crt). */
  certDir?: string;
  /** HTTP(S)_PROXY and NO_PROXY of the worker's environment, for its own registry requests (tools read them themselves). */
  proxies?: ProxyEnvironment;
}

/** Flags for a tool that talks to one registry; skopeo copy wants them as --src-… / --dest-… for its two ends. */
export function accessArgs(access: RegistryAccess, flagPrefix: '' | 'src-' | 'dest-' = ''): string[] {
  return [
    ...(access.authfile ? [`--${flagPrefix}authfile`, access.authfile] : []),
    `--${flagPrefix}tls-verify=${access.tlsVerify}`,
    ...(access.certDir ? [`--${flagPrefix}cert-dir`, access.certDir] : []),
  ];
}
