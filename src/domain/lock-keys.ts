/**
 * The lock a run holds while it decides and writes one repository's arch tags and index on a set of registries.
 * One per repository and release (`…/fedora:43`): two composes of one release serialize on it; composes of
 * different releases publish side by side. The release owns its version tag and its arch tags (`43`,
 * `43-x86_64`…), so their writers always share the lock. A tag that moves between releases (`latest`, `rawhide`) is
 * claimed by one release at a time; while `[releases]` changes, two releases may both claim it, and then its
 * compare-before-write (the index write re-reads each tag first) and the gate's release order keep the newer
 * release's index there. A lock per such tag as well (tried) cost every run one more lock round trip per repository
 * and tag: 46 more history events for 2 repositories, for that rare window. `perRelease` false: the one lock per
 * repository of runs started before (`…/fedora`).
 */
export function repositoryLockKey(options: {
  registries: readonly string[];
  repository: string;
  release: string;
  perRelease: boolean;
}): string {
  const base = `${[...options.registries].sort().join(',')}/${options.repository}`;
  return options.perRelease ? `${base}:${options.release}` : base;
}
