/** A registry's `WWW-Authenticate` challenge: HTTP basic, or a bearer token from a token service. */
export type AuthChallenge = { scheme: 'basic' } | { scheme: 'bearer'; realm: string; service?: string; scope?: string };

/**
 * Reads the first challenge of a `WWW-Authenticate` header, as the distribution spec and RFC 7235 write it:
 * `Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"` or
 * `Basic realm="Registry Realm"`. Undefined for a scheme the registry client does not speak.
 */
export function parseAuthChallenge(header: string | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  if (scheme === 'basic') return { scheme: 'basic' };
  if (scheme !== 'bearer') return undefined;
  const params: Record<string, string> = {};
  for (const param of match[2]!.matchAll(/(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g)) {
    params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3]!;
  }
  if (!params.realm) return undefined;
  return {
    scheme: 'bearer',
    realm: params.realm,
    ...(params.service ? { service: params.service } : {}),
    ...(params.scope ? { scope: params.scope } : {}),
  };
}

/** The token service's URL for a bearer challenge: its realm with service and scope as query parameters. */
export function tokenUrl(challenge: Extract<AuthChallenge, { scheme: 'bearer' }>): URL {
  const url = new URL(challenge.realm);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  if (challenge.scope) url.searchParams.set('scope', challenge.scope);
  return url;
}

/** The token in a token service's answer: `token`, or `access_token` (OAuth 2 style); undefined when neither. */
export function tokenOf(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { token, access_token: accessToken } = body as { token?: unknown; access_token?: unknown };
  if (typeof token === 'string' && token) return token;
  if (typeof accessToken === 'string' && accessToken) return accessToken;
  return undefined;
}
