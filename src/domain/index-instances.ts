import { sortedUnique } from './sorting.js';
import type { IndexInstance, OciArch, PublishedTag } from './types.js';

/**
 * The instances of the index to publish on one registry: this compose's images, plus, for a hybrid override,
 * the instance that registry publishes today for every arch this compose lacks (same digest, same compose id).
 */
export function indexInstances(input: {
  composeId: string;
  /** With its platform when prepareImage read it: the index write then reads no image config. */
  pushed: ReadonlyArray<{ ociArch: OciArch; digest: string; platform?: IndexInstance['platform'] }>;
  carryMissing: boolean;
  missing: readonly OciArch[];
  /** What this registry publishes today for the repository, one entry per manifest tag. */
  published: readonly PublishedTag[];
}): IndexInstance[] {
  const instances: IndexInstance[] = input.pushed.map((p) => ({
    ociArch: p.ociArch,
    digest: p.digest,
    composeId: input.composeId,
    ...(p.platform ? { platform: p.platform } : {}),
  }));
  if (input.carryMissing) {
    for (const arch of sortedUnique(input.missing)) {
      const carried = input.published
        .flatMap((manifest) => manifest.instances)
        .find((instance) => instance.ociArch === arch);
      if (carried)
        instances.push({
          ociArch: arch,
          digest: carried.digest,
          ...(carried.composeId ? { composeId: carried.composeId } : {}),
        });
    }
  }
  return instances.sort((a, b) => (a.ociArch < b.ociArch ? -1 : a.ociArch > b.ociArch ? 1 : 0));
}
