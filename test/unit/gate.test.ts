import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideGate, type GateInput } from '../../src/domain/gate.js';
import type { IndexInstance, PublishedTag } from '../../src/domain/types.js';

const OURS = 'Fedora-40-20240501.n.0';
const d = (n: number) => `sha256:${String(n).padStart(64, '0')}`;

function manifest(instances: IndexInstance[] | null, registry = 'quay.io/fedora', tag = '40'): PublishedTag {
  return {
    registry,
    repository: 'fedora',
    tag,
    digest: instances === null ? null : d(999),
    instances: instances ?? [],
  };
}
const instance = (ociArch: string, digest: string, composeId?: string): IndexInstance => ({
  ociArch,
  digest,
  ...(composeId ? { composeId } : {}),
});

function gate(built: GateInput['built'], published: PublishedTag[]) {
  return decideGate({ repository: 'fedora', composeId: OURS, built, published });
}

describe('decideGate', () => {
  it('passes the first publication (no tag anywhere yet)', () => {
    expect(gate({ amd64: d(1), arm64: d(2) }, [manifest(null), manifest(null, 'registry.example.org/fedora')])).toEqual(
      {
        repository: 'fedora',
        decision: 'pass',
        built: ['amd64', 'arm64'],
        published: [],
        missing: [],
      },
    );
  });

  it('passes when every published arch was built again', () => {
    const result = gate({ amd64: d(1), arm64: d(2) }, [
      manifest([
        instance('amd64', d(11), 'Fedora-40-20240430.n.0'),
        instance('arm64', d(12), 'Fedora-40-20240430.n.0'),
      ]),
    ]);
    expect(result.decision).toBe('pass');
    expect(result.missing).toEqual([]);
  });

  it('passes when the compose adds an arch', () => {
    expect(
      gate({ amd64: d(1), arm64: d(2), s390x: d(3) }, [manifest([instance('amd64', d(1)), instance('arm64', d(2))])])
        .decision,
    ).toBe('pass');
  });

  it('blocks when an arch users can pull today failed in this compose', () => {
    expect(gate({ amd64: d(1) }, [manifest([instance('amd64', d(11)), instance('arm64', d(12))])])).toEqual({
      repository: 'fedora',
      decision: 'blocked',
      built: ['amd64'],
      published: ['amd64', 'arm64'],
      missing: ['arm64'],
    });
  });

  it('takes the union of arches over registries and tags', () => {
    const result = gate({ amd64: d(1), arm64: d(2) }, [
      manifest([instance('amd64', d(11)), instance('arm64', d(12))], 'quay.io/fedora', '40'),
      manifest([instance('amd64', d(11)), instance('s390x', d(13))], 'registry.example.org/fedora', 'latest'),
      manifest(null, 'registry.example.org/fedora', '40'),
    ]);
    expect(result.decision).toBe('blocked');
    expect(result.published).toEqual(['amd64', 'arm64', 's390x']);
    expect(result.missing).toEqual(['s390x']);
  });

  it('counts a single-arch manifest at the tag as that arch', () => {
    expect(gate({ arm64: d(2) }, [manifest([instance('amd64', d(11))])]).missing).toEqual(['amd64']);
  });

  it('blocks a repository the compose built nothing for, when something is published', () => {
    expect(gate({}, [manifest([instance('amd64', d(11)), instance('arm64', d(12))])])).toMatchObject({
      decision: 'blocked',
      built: [],
      missing: ['amd64', 'arm64'],
    });
  });

  it('is a noop when nothing was built and nothing is published', () => {
    expect(gate({}, [manifest(null)]).decision).toBe('noop');
    expect(gate({}, []).decision).toBe('noop');
  });

  it('is a noop when every tag on every registry already holds exactly the built images', () => {
    const same = () => [instance('arm64', d(2), OURS), instance('amd64', d(1), OURS)];
    expect(
      gate({ amd64: d(1), arm64: d(2) }, [
        manifest(same()),
        manifest(same(), 'quay.io/fedora', 'latest'),
        manifest(same(), 'registry.example.org/fedora'),
      ]).decision,
    ).toBe('noop');
  });

  it.each([
    [
      'a tag is absent on one registry',
      [manifest([instance('amd64', d(1)), instance('arm64', d(2))]), manifest(null, 'registry.example.org/fedora')],
    ],
    [
      'one tag holds other digests',
      [
        manifest([instance('amd64', d(1)), instance('arm64', d(2))]),
        manifest([instance('amd64', d(1)), instance('arm64', d(7))], 'quay.io/fedora', 'latest'),
      ],
    ],
    [
      'a tag holds an arch twice',
      [manifest([instance('amd64', d(1)), instance('arm64', d(2)), instance('arm64', d(2))])],
    ],
  ])('passes (not noop) when %s', (_case, published) => {
    expect(gate({ amd64: d(1), arm64: d(2) }, published).decision).toBe('pass');
  });

  it('passes (not noop) while a built digest is not known yet', () => {
    expect(
      gate({ amd64: d(1), arm64: undefined }, [manifest([instance('amd64', d(1)), instance('arm64', d(2))])]).decision,
    ).toBe('pass');
  });

  it('is superseded when a published instance comes from a newer compose, naming the newest', () => {
    const result = gate({ amd64: d(1) }, [
      manifest([
        instance('amd64', d(11), 'Fedora-40-20240502.n.0'),
        instance('arm64', d(12), 'Fedora-40-20240503.n.1'),
      ]),
      manifest([instance('amd64', d(11), 'Fedora-40-20240503.n.0')], 'registry.example.org/fedora'),
    ]);
    expect(result).toEqual({
      repository: 'fedora',
      decision: 'superseded',
      built: ['amd64'],
      published: ['amd64', 'arm64'],
      missing: ['arm64'],
      newerComposeId: 'Fedora-40-20240503.n.1',
    });
  });

  it('is superseded by a newer respin of the same day', () => {
    expect(gate({ amd64: d(1) }, [manifest([instance('amd64', d(11), 'Fedora-40-20240501.n.1')])]).newerComposeId).toBe(
      'Fedora-40-20240501.n.1',
    );
  });

  it('is not superseded by the same compose, an older one, another label of the same date and respin, or an unparseable id', () => {
    const result = gate({ amd64: d(1), arm64: d(2) }, [
      manifest([instance('amd64', d(11), OURS), instance('arm64', d(12), 'Fedora-40-20240430.n.3')]),
      manifest(
        [instance('amd64', d(11), 'Fedora-40-20240501.0'), instance('arm64', d(12), 'garbage-99999999.9')],
        'quay.io/fedora',
        'latest',
      ),
    ]);
    expect(result.decision).toBe('pass');
    expect(result).not.toHaveProperty('newerComposeId');
  });

  it('sorts and deduplicates every list', () => {
    const result = gate({ s390x: d(3), amd64: d(1) }, [
      manifest([instance('s390x', d(3)), instance('ppc64le', d(4))]),
      manifest([instance('ppc64le', d(4)), instance('amd64', d(1))], 'quay.io/fedora', 'latest'),
    ]);
    expect(result).toMatchObject({
      built: ['amd64', 's390x'],
      published: ['amd64', 'ppc64le', 's390x'],
      missing: ['ppc64le'],
    });
  });
});

describe('decideGate (properties)', () => {
  const arch = fc.constantFrom('amd64', 'arm64', 'ppc64le', 's390x', 'riscv64');
  const digest = fc.constantFrom(d(1), d(2), d(3));
  const annotation = fc.option(
    fc.constantFrom(
      'Fedora-40-20240430.n.0',
      OURS,
      'Fedora-40-20240501.0',
      'Fedora-40-20240502.n.0',
      'Fedora-40-20240501.n.1',
      'not-a-compose-id',
    ),
    { nil: undefined },
  );
  const built = fc.dictionary(arch, fc.option(digest, { nil: undefined }));
  const published = fc
    .array(
      fc.record({
        registry: fc.constantFrom('quay.io/fedora', 'registry.example.org/fedora'),
        tag: fc.constantFrom('40', 'latest'),
        present: fc.boolean(),
        instances: fc.array(fc.tuple(arch, digest, annotation), { maxLength: 5 }),
      }),
      { maxLength: 4 },
    )
    .map((list) =>
      list.map(({ registry, tag, present, instances }): PublishedTag => ({
        registry,
        repository: 'fedora',
        tag,
        digest: present ? d(9) : null,
        instances: present
          ? instances.map(([ociArch, instanceDigest, composeId]) => instance(ociArch, instanceDigest, composeId))
          : [],
      })),
    );

  it('never lets publishing the built arches drop a published arch', () => {
    fc.assert(
      fc.property(built, published, (builtDigests, manifests) => {
        const result = gate(builtDigests, manifests);
        const publishedArches = new Set(manifests.flatMap((m) => m.instances.map((i) => i.ociArch)));
        if (result.decision === 'pass' || result.decision === 'noop') {
          for (const a of publishedArches) expect(Object.keys(builtDigests)).toContain(a);
        }
      }),
    );
  });

  it('blocks exactly when an arch is missing (unless superseded)', () => {
    fc.assert(
      fc.property(built, published, (builtDigests, manifests) => {
        const result = gate(builtDigests, manifests);
        const builtArches = new Set(Object.keys(builtDigests));
        const expectedMissing = [...new Set(manifests.flatMap((m) => m.instances.map((i) => i.ociArch)))]
          .filter((a) => !builtArches.has(a))
          .sort();
        expect(result.missing).toEqual(expectedMissing);
        if (result.decision !== 'superseded') expect(result.decision === 'blocked').toBe(expectedMissing.length > 0);
      }),
    );
  });

  it('is superseded exactly when some instance comes from a newer compose', () => {
    // Newer than OURS, newest first.
    const newer = ['Fedora-40-20240502.n.0', 'Fedora-40-20240501.n.1'];
    fc.assert(
      fc.property(built, published, (builtDigests, manifests) => {
        const result = gate(builtDigests, manifests);
        const seen = new Set(manifests.flatMap((m) => m.instances.map((i) => i.composeId)));
        const newest = newer.find((id) => seen.has(id));
        expect(result.decision === 'superseded').toBe(newest !== undefined);
        expect(result.newerComposeId).toBe(newest);
      }),
    );
  });

  it('returns sorted, duplicate-free lists and is deterministic', () => {
    fc.assert(
      fc.property(built, published, (builtDigests, manifests) => {
        const result = gate(builtDigests, manifests);
        for (const list of [result.built, result.published, result.missing])
          expect(list).toEqual([...new Set(list)].sort());
        expect(gate(builtDigests, [...manifests].reverse())).toEqual(result);
      }),
    );
  });
});

describe('decideGate across releases', () => {
  const latest = (composeId: string) => manifest([instance('amd64', d(11), composeId)], 'quay.io/fedora', 'latest');

  it('is superseded on a shared tag by a higher release published earlier in the calendar, when ordering across releases', () => {
    const input = {
      repository: 'fedora',
      composeId: 'Fedora-41-20241130.0',
      built: { amd64: d(1) },
      published: [latest('Fedora-42-20241101.n.0')],
    };
    expect(decideGate({ ...input, acrossReleases: true })).toMatchObject({
      decision: 'superseded',
      newerComposeId: 'Fedora-42-20241101.n.0',
    });
    expect(decideGate(input).decision).toBe('pass');
  });

  it('takes a shared tag from a lower release whatever its date', () => {
    const input = {
      repository: 'fedora',
      composeId: 'Fedora-42-20241101.n.0',
      built: { amd64: d(1) },
      published: [latest('Fedora-41-20241130.0')],
    };
    expect(decideGate({ ...input, acrossReleases: true }).decision).toBe('pass');
    expect(decideGate(input).decision).toBe('superseded');
  });
});
