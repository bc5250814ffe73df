import { compareComposesAcrossReleases, tryParseComposeId } from './compose-id.js';
import type { OciArch, PublishedTag } from './types.js';

/** One arch image of this compose and the tag it goes to, e.g. 40-aarch64. */
export interface ArchImage {
  ociArch: OciArch;
  tag: string;
  digest: string;
}

/** What a run that wrote an arch tag told the repository's lock: that tag on that registry held this compose's image. */
export interface ArchTagRecord {
  registry: string;
  tag: string;
  digest: string;
  composeId: string;
}

export interface ArchTagWrite {
  registry: string;
  ociArch: OciArch;
  tag: string;
  digest: string;
}

export interface ArchTagKept {
  registry: string;
  tag: string;
  /** The newer compose whose image the tag keeps. */
  composeId: string;
}

export interface ArchTagPlan {
  write: ArchTagWrite[];
  /** Tags left alone because they hold an image of a newer compose. */
  kept: ArchTagKept[];
}

export function archTagKey(registry: string, tag: string): string {
  return `${registry}:${tag}`;
}

/**
 * Which arch tags a run writes. The compose an arch tag's image comes from is, in this order: the compose the
 * repository's lock recorded for the run that last wrote that tag (when the tag still holds that digest); the
 * compose-id annotation of an index instance with the same digest; otherwise unknown. A tag is written unless it
 * already holds our image or an image of a known newer compose; a tag of unknown origin is treated as older.
 */
export function planArchTags(input: {
  composeId: string;
  registries: readonly string[];
  images: readonly ArchImage[];
  /** Every arch tag of `images` on every registry, as inspected under the lock. */
  archTags: readonly PublishedTag[];
  /** The repository's indexes, as inspected under the lock. */
  indexes: readonly PublishedTag[];
  /** The lock's records, by archTagKey. */
  records: Readonly<Record<string, ArchTagRecord>>;
}): ArchTagPlan {
  const ours = tryParseComposeId(input.composeId);
  const annotated = new Map<string, string>();
  for (const instance of input.indexes.flatMap((manifest) => manifest.instances)) {
    if (instance.composeId) annotated.set(instance.digest, instance.composeId);
  }
  const plan: ArchTagPlan = { write: [], kept: [] };
  for (const registry of input.registries) {
    for (const image of input.images) {
      const held =
        input.archTags.find((manifest) => manifest.registry === registry && manifest.tag === image.tag)?.digest ?? null;
      if (held === image.digest) continue;
      const record = input.records[archTagKey(registry, image.tag)];
      const origin = held === null ? undefined : record?.digest === held ? record.composeId : annotated.get(held);
      const theirs = origin === undefined ? undefined : tryParseComposeId(origin);
      if (ours && theirs && compareComposesAcrossReleases(theirs, ours) > 0) {
        plan.kept.push({ registry, tag: image.tag, composeId: theirs.id });
        continue;
      }
      plan.write.push({ registry, ociArch: image.ociArch, tag: image.tag, digest: image.digest });
    }
  }
  return plan;
}
