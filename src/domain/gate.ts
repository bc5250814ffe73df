import {
  compareComposeIds,
  compareComposesAcrossReleases,
  tryParseComposeId,
  type ParsedComposeId,
} from './compose-id.js';
import { compareStrings, sortedUnique } from './sorting.js';
import type { OciArch, PublishedTag, RepositoryDecision } from './types.js';

export interface GateInput {
  repository: string;
  /** This run's compose id. */
  composeId: string;
  /** Every arch this compose built for the repository → the digest pushed for it, when known yet. */
  built: Record<OciArch, string | undefined>;
  /** Every registry × manifest tag for this repository; digest null means the tag is absent. */
  published: PublishedTag[];
  /**
   * Order composes of different releases by release first (compareComposesAcrossReleases); runs started before
   * this rule ordered by date alone and keep doing so on replay.
   */
  acrossReleases?: boolean;
}

/**
 * The gate, per repository. Never publishes an index that would drop an arch users can pull today:
 * missing = published arches (over all registries and tags) − built arches; any missing arch blocks.
 * Deterministic and total (it runs in workflow code and must never throw).
 */
export function decideGate(input: GateInput): RepositoryDecision {
  const built = sortedUnique(Object.keys(input.built));
  const published = sortedUnique(
    input.published.flatMap((manifest) => manifest.instances.map((instance) => instance.ociArch)),
  );
  const builtSet = new Set(built);
  const missing = published.filter((arch) => !builtSet.has(arch));
  const base = { repository: input.repository, built, published, missing };

  const newer = newestNewerComposeId(
    input.composeId,
    input.published,
    input.acrossReleases ? compareComposesAcrossReleases : compareComposeIds,
  );
  if (newer !== undefined) return { ...base, decision: 'superseded', newerComposeId: newer };
  if (missing.length > 0) return { ...base, decision: 'blocked' };
  if (isAlreadyPublished(input.built, built, input.published)) return { ...base, decision: 'noop' };
  return { ...base, decision: 'pass' };
}

/** The newest compose id among the published instances that is newer than ours; ids that do not parse are ignored. */
function newestNewerComposeId(
  ours: string,
  published: PublishedTag[],
  compare: (a: ParsedComposeId, b: ParsedComposeId) => number,
): string | undefined {
  const own = tryParseComposeId(ours);
  if (!own) return undefined;
  let newest: ParsedComposeId | undefined;
  for (const id of sortedUnique(
    published.flatMap((m) => m.instances.flatMap((i) => (i.composeId ? [i.composeId] : []))),
  )) {
    const theirs = tryParseComposeId(id);
    // Ids are visited in string order, so equally new ids resolve to the same one on every run.
    if (theirs && compare(theirs, own) > 0 && (!newest || compare(theirs, newest) >= 0)) newest = theirs;
  }
  return newest?.id;
}

/**
 * True when there is nothing to do: nothing built and nothing published, or every manifest tag on every
 * registry already holds exactly the built arch → digest set.
 */
function isAlreadyPublished(
  builtDigests: Record<OciArch, string | undefined>,
  built: OciArch[],
  published: PublishedTag[],
): boolean {
  if (built.length === 0) return published.every((manifest) => manifest.instances.length === 0);
  if (published.length === 0 || built.some((arch) => builtDigests[arch] === undefined)) return false;
  const wanted = built.map((arch) => `${arch} ${builtDigests[arch] ?? ''}`).sort(compareStrings);
  return published.every((manifest) => {
    if (manifest.digest === null) return false;
    const held = manifest.instances.map((instance) => `${instance.ociArch} ${instance.digest}`).sort(compareStrings);
    return held.length === wanted.length && held.every((pair, index) => pair === wanted[index]);
  });
}
