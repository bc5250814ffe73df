import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeStaleness,
  crossingKey,
  newCrossings,
  staleRepositories,
  type RunOutcome,
  type ServedIndex,
} from '../../src/domain/staleness.js';
import { renderStalenessDetails } from '../../src/domain/staleness-details.js';

const DAY = 86_400_000;
const digest = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const index = (instances: ServedIndex['instances'], tag = '40'): ServedIndex => ({
  registry: 'quay.io/fedora',
  repository: 'fedora',
  tag,
  instances,
});
const run = (
  composeId: string,
  decision: RunOutcome['decision'],
  built: RunOutcome['built'] = ['amd64'],
): RunOutcome => ({ composeId, repository: 'fedora', decision, built });

const runs = [
  run('Fedora-40-20261101.n.0', 'pass', ['amd64', 'arm64']),
  run('Fedora-40-20261102.n.0', 'blocked'),
  run('Fedora-40-20261103.n.0', 'blocked'),
  run('Fedora-40-20261105.n.0', 'blocked'),
  // Not counted: a superseded run wrote nothing, and another release is another lineage.
  run('Fedora-40-20261104.n.0', 'superseded'),
  run('Fedora-41-20261106.n.0', 'pass'),
];

describe('computeStaleness', () => {
  const served = index([
    { arch: 'amd64', digest: digest(1), composeId: 'Fedora-40-20261101.n.0' },
    { arch: 'arm64', digest: digest(2), composeId: 'Fedora-40-20261101.n.0' },
  ]);

  it('counts the composes of the same release that published after the one the index serves, and their days', () => {
    const rows = computeStaleness({
      indexes: [served],
      archTags: [{ registry: 'quay.io/fedora', repository: 'fedora', arch: 'amd64', digest: digest(9) }],
      runs,
      warnAfterMs: 3 * DAY,
    });
    expect(rows).toEqual([
      expect.objectContaining({
        arch: 'amd64',
        servedComposeId: 'Fedora-40-20261101.n.0',
        newestComposeId: 'Fedora-40-20261105.n.0',
        composesBehind: 3,
        lagDays: 4,
        archTagMovedOn: true,
        stale: true,
        overThreshold: true,
      }),
      expect.objectContaining({ arch: 'arm64', composesBehind: 3, archTagMovedOn: false, stale: true }),
    ]);
    expect(staleRepositories(rows)).toEqual(['fedora']);
  });

  it('is not stale when the index serves the newest compose, and below warn_after is stale but not announced', () => {
    const fresh = computeStaleness({
      indexes: [index([{ arch: 'amd64', digest: digest(1), composeId: 'Fedora-40-20261105.n.0' }])],
      archTags: [],
      runs,
      warnAfterMs: DAY,
    });
    expect(fresh[0]).toMatchObject({ composesBehind: 0, stale: false, overThreshold: false });
    const young = computeStaleness({ indexes: [served], archTags: [], runs, warnAfterMs: 5 * DAY });
    expect(young[0]).toMatchObject({ stale: true, overThreshold: false });
    expect(newCrossings(young, [])).toEqual([]);
  });

  it('an index instance without a compose annotation is unknown, not stale', () => {
    const rows = computeStaleness({
      indexes: [index([{ arch: 'amd64', digest: digest(1) }])],
      archTags: [],
      runs,
      warnAfterMs: DAY,
    });
    expect(rows[0]).toMatchObject({ composesBehind: 0, stale: false });
    expect(rows[0]!.servedComposeId).toBeUndefined();
  });

  it('announces a crossing once: the next report with the same served compose has nothing new, a new served compose crosses anew', () => {
    const rows = computeStaleness({ indexes: [served], archTags: [], runs, warnAfterMs: DAY });
    expect(newCrossings(rows, [])).toHaveLength(2);
    expect(newCrossings(rows, rows.map(crossingKey))).toEqual([]);
    const moved = computeStaleness({
      indexes: [index([{ arch: 'arm64', digest: digest(3), composeId: 'Fedora-40-20261102.n.0' }])],
      archTags: [],
      runs,
      warnAfterMs: DAY,
    });
    expect(newCrossings(moved, rows.map(crossingKey))).toHaveLength(1);
  });

  it('puts stale rows first, whatever the order of its input', () => {
    const composeIds = [
      'Fedora-40-20261101.n.0',
      'Fedora-40-20261102.n.0',
      'Fedora-40-20261103.n.0',
      'Fedora-40-20261105.n.0',
    ];
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            tag: fc.constantFrom('40', 'latest'),
            composeId: fc.constantFrom(...composeIds),
            arch: fc.constantFrom('amd64', 'arm64', 's390x'),
          }),
          { maxLength: 12 },
        ),
        (entries) => {
          const rows = computeStaleness({
            indexes: entries.map((e, i) => index([{ arch: e.arch, digest: digest(i), composeId: e.composeId }], e.tag)),
            archTags: [],
            runs,
            warnAfterMs: DAY,
          });
          const firstFresh = rows.findIndex((row) => !row.stale);
          return firstFresh === -1 || rows.slice(firstFresh).every((row) => !row.stale);
        },
      ),
    );
  });
});

describe('renderStalenessDetails', () => {
  it('lists stale rows with the override of the run still waiting, and escapes what the registry says', () => {
    const rows = computeStaleness({
      indexes: [
        {
          ...index([{ arch: 'arm64', digest: digest(2), composeId: 'Fedora-40-20261101.n.0' }]),
          registry: 'quay.io/a|b',
        },
      ],
      archTags: [],
      runs,
      warnAfterMs: DAY,
    });
    const details = renderStalenessDetails(
      rows,
      [{ composeId: 'Fedora-40-20261105.n.0', repositories: ['fedora'] }],
      '2026-11-06T00:00:00Z',
    );
    expect(details).toContain('**1 stale arches**');
    expect(details).toContain('quay.io/a\\|b');
    expect(details).toContain('compose-publisher override Fedora-40-20261105.n.0 --repository fedora --mode hybrid');
  });
});
