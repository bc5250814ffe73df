import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { archTagKey, planArchTags, type ArchImage, type ArchTagRecord } from '../../src/domain/arch-tags.js';
import type { PublishedTag } from '../../src/domain/types.js';

const d = (n: number) => `sha256:${String(n).padStart(64, '0')}`;
const OURS = 'Fedora-40-20240502.n.0';
const OLDER = 'Fedora-40-20240501.n.0';
const NEWER = 'Fedora-40-20240503.n.0';
const REGISTRY = 'quay.io/fedora';

const images: ArchImage[] = [
  { ociArch: 'amd64', tag: '40-x86_64', digest: d(1) },
  { ociArch: 'arm64', tag: '40-aarch64', digest: d(2) },
];

function archTagHolding(tag: string, digest: string | null, registry = REGISTRY): PublishedTag {
  return { registry, repository: 'fedora', tag, digest, instances: digest ? [{ ociArch: 'amd64', digest }] : [] };
}

function record(tag: string, digest: string, composeId: string, registry = REGISTRY): Record<string, ArchTagRecord> {
  return { [archTagKey(registry, tag)]: { registry, tag, digest, composeId } };
}

function plan(archTags: PublishedTag[], records: Record<string, ArchTagRecord> = {}, indexes: PublishedTag[] = []) {
  return planArchTags({ composeId: OURS, registries: [REGISTRY], images, archTags, indexes, records });
}

describe('planArchTags', () => {
  it('writes every arch tag on a registry that has none', () => {
    expect(plan([archTagHolding('40-x86_64', null), archTagHolding('40-aarch64', null)])).toEqual({
      write: [
        { registry: REGISTRY, ociArch: 'amd64', tag: '40-x86_64', digest: d(1) },
        { registry: REGISTRY, ociArch: 'arm64', tag: '40-aarch64', digest: d(2) },
      ],
      kept: [],
    });
  });

  it('writes nothing where the tag already holds our image', () => {
    expect(plan([archTagHolding('40-x86_64', d(1)), archTagHolding('40-aarch64', d(2))]).write).toEqual([]);
  });

  it('keeps a tag the lock recorded as written by a newer compose, and moves one an older compose wrote', () => {
    const result = plan([archTagHolding('40-x86_64', d(11)), archTagHolding('40-aarch64', d(12))], {
      ...record('40-x86_64', d(11), NEWER),
      ...record('40-aarch64', d(12), OLDER),
    });
    expect(result.kept).toEqual([{ registry: REGISTRY, tag: '40-x86_64', composeId: NEWER }]);
    expect(result.write.map((write) => write.tag)).toEqual(['40-aarch64']);
  });

  it('does not trust a record whose digest the tag no longer holds (someone else moved it): unknown origin is overwritten', () => {
    expect(
      plan(
        [archTagHolding('40-x86_64', d(99)), archTagHolding('40-aarch64', null)],
        record('40-x86_64', d(11), NEWER),
      ).write.map((w) => w.tag),
    ).toEqual(['40-x86_64', '40-aarch64']);
  });

  it('knows an image by the compose-id annotation of the index instance with the same digest', () => {
    const index: PublishedTag = {
      registry: REGISTRY,
      repository: 'fedora',
      tag: '40',
      digest: d(500),
      instances: [{ ociArch: 'amd64', digest: d(11), composeId: NEWER }],
    };
    expect(plan([archTagHolding('40-x86_64', d(11)), archTagHolding('40-aarch64', null)], {}, [index]).kept).toEqual([
      { registry: REGISTRY, tag: '40-x86_64', composeId: NEWER },
    ]);
  });

  it('decides per registry', () => {
    const other = 'registry.fedoraproject.org';
    const result = planArchTags({
      composeId: OURS,
      registries: [REGISTRY, other],
      images: [images[0]!],
      archTags: [archTagHolding('40-x86_64', d(11)), archTagHolding('40-x86_64', d(11), other)],
      indexes: [],
      records: record('40-x86_64', d(11), NEWER),
    });
    expect(result.kept).toEqual([{ registry: REGISTRY, tag: '40-x86_64', composeId: NEWER }]);
    expect(result.write).toEqual([{ registry: other, ociArch: 'amd64', tag: '40-x86_64', digest: d(1) }]);
  });

  it('never writes over an image of a known newer compose, and writes or keeps every tag that does not hold ours', () => {
    const day = fc.integer({ min: 1, max: 9 }).map((n) => `Fedora-40-2024050${n}.n.0`);
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            held: fc.option(fc.integer({ min: 1, max: 30 }), { nil: null }),
            writer: fc.option(day, { nil: undefined }),
          }),
          { minLength: 2, maxLength: 2 },
        ),
        (tags) => {
          const archTags = images.map((image, i) =>
            archTagHolding(image.tag, tags[i]!.held === null ? null : d(tags[i]!.held)),
          );
          const records = Object.assign(
            {},
            ...images.map((image, i) => {
              const { held, writer } = tags[i]!;
              return held !== null && writer ? record(image.tag, d(held), writer) : {};
            }),
          ) as Record<string, ArchTagRecord>;
          const result = plan(archTags, records);
          for (const write of result.write) {
            const writer = records[archTagKey(REGISTRY, write.tag)]?.composeId;
            if (writer) expect(writer <= OURS).toBe(true);
          }
          const holdingOurs = images.filter(
            (image, i) => tags[i]!.held !== null && d(tags[i]!.held) === image.digest,
          ).length;
          expect(result.write.length + result.kept.length + holdingOurs).toBe(images.length);
        },
      ),
    );
  });
});
