import { pathSegments } from './compose-location.js';
import { hasControlCharacter } from './printable.js';

/**
 * Whether a compose location lies under one of the allowed prefixes ([amqp] allowed_locations), compared after
 * normalising both: URL host case, dot segments, duplicate slashes, no query or fragment. A prefix matches whole
 * path segments only: https://host/compose/ allows https://host/compose/40/…, not https://host/compose-evil/.
 */
export function isAllowedLocation(location: string, prefixes: readonly string[]): boolean {
  const normalized = normalizeLocation(location);
  if (normalized === undefined) return false;
  return prefixes.some((prefix) => {
    const allowed = normalizeLocation(prefix);
    return allowed !== undefined && `${normalized}/`.startsWith(allowed.endsWith('/') ? allowed : `${allowed}/`);
  });
}

/** scheme://host[:port]/path or /path, with dot segments resolved and no trailing slash; undefined when unusable. */
export function normalizeLocation(location: string): string | undefined {
  if (hasControlCharacter(location) || location.includes('\\')) return undefined;
  if (location.startsWith('/')) return normalizePath(location);
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return undefined;
  const path = normalizePath(decodeURIComponent(url.pathname));
  return path === undefined ? undefined : `${url.protocol}//${url.host}${path === '/' ? '' : path}`;
}

function normalizePath(path: string): string | undefined {
  const segments = pathSegments(path);
  return segments === undefined ? undefined : `/${segments.join('/')}`;
}
