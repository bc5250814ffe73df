import { pathSegments } from './compose-location.js';
import { DomainError } from './errors.js';
import { hasControlCharacter } from './printable.js';

/** The config key of the location prefixes that workers read composes from and the listener starts runs for. */
export const ALLOWED_LOCATIONS_KEY = '[compose].allowed_locations';

/** The prefixes a process may read composes from, and the config key they came from (for messages). */
export interface AllowedLocations {
  prefixes: readonly string[];
  key: string;
}

/**
 * Refuses, before anything is requested from it, a location outside `allowed` (a run's compose, an image, a
 * redirect's target): UntrustedInput, naming the location and the key. `allowed` undefined: any location (no key set).
 */
export function checkAllowedLocation(
  location: string,
  allowed: AllowedLocations | undefined,
  source: { what?: string; redirectedFrom?: string } = {},
): void {
  if (allowed === undefined || isAllowedLocation(location, allowed.prefixes)) return;
  const shown = JSON.stringify(location.slice(0, 200));
  const subject = source.redirectedFrom
    ? `${source.redirectedFrom} redirects to ${shown}, which`
    : `${source.what ?? 'the compose location'} ${shown}`;
  throw new DomainError(
    'UntrustedInput',
    `${subject} is not under any of ${allowed.key} (${allowed.prefixes.join(', ')}): composes are read only from there, so nothing was requested from it. ` +
      `Fix: publish a compose from one of those, or add its prefix to ${allowed.key} (of every worker)`,
  );
}

/**
 * Whether a compose location lies under one of the allowed prefixes ([compose] allowed_locations), compared after
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
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.pathname);
  } catch {
    return undefined; // a malformed %-escape
  }
  const path = normalizePath(decoded);
  return path === undefined ? undefined : `${url.protocol}//${url.host}${path === '/' ? '' : path}`;
}

function normalizePath(path: string): string | undefined {
  const segments = pathSegments(path);
  return segments === undefined ? undefined : `/${segments.join('/')}`;
}
