/** The locks a run holds while it decides and writes one repository's arch tags and index on a set of registries. */
export interface RepositoryLockKeys {
  /** Every lock to hold, sorted: the order they are taken in. */
  all: string[];
  /** The one that keeps the records of the arch tags written (those of the release, e.g. 43-x86_64). */
  records: string;
}

/**
 * One lock per index tag (`…/fedora:43`, `…/fedora:latest`): two composes of one release share their release's
 * lock and serialize; composes of different releases share none (unless both claim `latest`, say, and then they
 * take turns on it) and publish side by side. The arch tags of a release are under its release tag's lock.
 * `perTag` false: the one lock per repository of runs started before (`…/fedora`).
 */
export function repositoryLockKeys(options: {
  registries: readonly string[];
  repository: string;
  release: string;
  indexTags: readonly string[];
  perTag: boolean;
}): RepositoryLockKeys {
  const base = `${[...options.registries].sort().join(',')}/${options.repository}`;
  if (!options.perTag) return { all: [base], records: base };
  const records = `${base}:${options.release}`;
  const all = [...new Set([options.release, ...options.indexTags])].map((tag) => `${base}:${tag}`).sort();
  return { all, records };
}
