import { DomainError } from './errors.js';

const HTTP_URL = /^https?:\/\//i;
const ANY_URL = /^[a-z][a-z0-9+.-]*:/i;

export function isHttpUrl(location: string): boolean {
  return HTTP_URL.test(location);
}

export function isOciReference(location: string): boolean {
  return /^oci:\/\//i.test(location);
}

/** Where an image can be fetched from: an http(s) URL or an absolute local path. */
export function isFetchableLocation(location: string): boolean {
  return isHttpUrl(location) || location.startsWith('/');
}

/** Throws unless the compose root is an http(s) URL or an absolute local path. */
export function checkComposeRoot(composeRoot: string): void {
  if (!isFetchableLocation(composeRoot)) {
    throw new DomainError(
      'UnsupportedImageLocation',
      `The compose location "${composeRoot}" is neither an http(s) URL nor an absolute path. Fix: give the compose's top directory (the one holding metadata/) as https://… or as an absolute path`,
    );
  }
}

/**
 * Resolves a location from images.json against the compose's top directory. URLs (https://, oci://, …)
 * are returned as given. Returns undefined for a path that is absolute or climbs out of the compose.
 */
export function resolveImageLocation(composeRoot: string, reference: string): string | undefined {
  if (ANY_URL.test(reference)) return reference;
  if (reference.startsWith('/')) return undefined;
  const segments = pathSegments(reference);
  if (segments === undefined || segments.length === 0) return undefined;
  return `${composeRoot.replace(/\/+$/, '')}/${segments.join('/')}`;
}

/** The segments of a path with "", "." and ".." resolved; undefined when ".." climbs above its start. */
export function pathSegments(path: string): string[] | undefined {
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (segments.pop() === undefined) return undefined;
    } else {
      segments.push(segment);
    }
  }
  return segments;
}

/** The last path segment of a path or URL, without query or fragment. */
export function baseName(location: string): string {
  const path = ANY_URL.test(location) ? location.replace(/[?#].*$/, '') : location;
  const segments = path.split('/').filter((segment) => segment !== '');
  return segments.at(-1) ?? '';
}
