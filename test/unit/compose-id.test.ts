import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compareComposeIds,
  compareComposesAcrossReleases,
  isComposeIdNewer,
  parseComposeId,
  tryParseComposeId,
  type ComposeType,
} from '../../src/domain/compose-id.js';
import { domainErrorOf } from './helpers/domain-error.js';

describe('parseComposeId', () => {
  it.each([
    ['Fedora-40-20240501.n.0', 'Fedora-40', '20240501', 'nightly', 0],
    ['Fedora-Rawhide-20240501.n.1', 'Fedora-Rawhide', '20240501', 'nightly', 1],
    ['Fedora-40-20240414.0', 'Fedora-40', '20240414', 'production', 0],
    ['Fedora-40-updates-20240501.0', 'Fedora-40-updates', '20240501', 'production', 0],
    ['Fedora-40-updates-testing-20240501.3', 'Fedora-40-updates-testing', '20240501', 'production', 3],
    ['Fedora-Cloud-40-20240501.1', 'Fedora-Cloud-40', '20240501', 'production', 1],
    ['Fedora-40-20240229.t.2', 'Fedora-40', '20240229', 'test', 2],
    ['Fedora-41-20241001.ci.12', 'Fedora-41', '20241001', 'ci', 12],
  ] as const)('parses %s', (id, release, date, type, respin) => {
    expect(parseComposeId(id)).toEqual({ id, release, date, type, respin });
  });

  it.each([
    '',
    'Fedora-40',
    'Fedora-40-latest',
    '20240501.n.0',
    'Fedora-40-2024050.n.0',
    'Fedora-40-20241301.n.0',
    'Fedora-40-20230229.0',
    'Fedora-40-20240501.x.0',
    'Fedora-40-20240501.n',
    'Fedora 40-20240501.n.0',
  ])('rejects %j, showing the expected shape', (id) => {
    expect(tryParseComposeId(id)).toBeUndefined();
    const error = domainErrorOf(() => parseComposeId(id, 'The argument <compose id>'));
    expect(error.type).toBe('InvalidComposeId');
    expect(error.message).toContain(`The argument <compose id> ${JSON.stringify(id)} is not a compose id`);
    expect(error.message).toContain('<release>-<YYYYMMDD>[.n|.t|.ci|.d].<respin>, e.g. Fedora-40-20240501.n.0');
    expect(error.message).toContain('Fix:');
  });
});

describe('compareComposeIds', () => {
  it.each([
    ['Fedora-40-20240501.n.0', 'Fedora-40-20240502.n.0', -1],
    ['Fedora-40-20240501.n.1', 'Fedora-40-20240501.n.0', 1],
    ['Fedora-40-20240501.n.10', 'Fedora-40-20240501.n.9', 1],
    ['Fedora-40-20240502.0', 'Fedora-40-20240501.n.5', 1],
    ['Fedora-40-20240414.0', 'Fedora-40-20240501.n.0', -1],
    ['Fedora-40-20231231.n.9', 'Fedora-40-20240101.n.0', -1],
    ['Fedora-40-20240501.n.0', 'Fedora-40-20240501.0', 0],
    ['Fedora-40-20240501.t.1', 'Fedora-40-20240501.n.1', 0],
    ['Fedora-Rawhide-20240501.n.1', 'Fedora-Rawhide-20240501.n.0', 1],
    ['Fedora-Cloud-40-20240501.1', 'Fedora-40-updates-20240501.0', 1],
  ] as const)('compares %s with %s: %i', (a, b, expected) => {
    expect(compareComposeIds(a, b)).toBe(expected);
    expect(compareComposeIds(b, a)).toBe(-expected || 0);
    expect(isComposeIdNewer(a, b)).toBe(expected > 0);
  });

  it('accepts parsed ids', () => {
    expect(compareComposeIds(parseComposeId('Fedora-40-20240501.n.1'), 'Fedora-40-20240501.n.0')).toBe(1);
  });

  it('throws on an id that does not parse', () => {
    expect(domainErrorOf(() => compareComposeIds('Fedora-40-20240501.n.0', 'nonsense')).type).toBe('InvalidComposeId');
  });
});

describe('compareComposeIds (properties)', () => {
  const composeId = fc
    .record({
      release: fc.constantFrom(
        'Fedora-40',
        'Fedora-Rawhide',
        'Fedora-40-updates',
        'Fedora-Cloud-40',
        'Fedora-41',
        'Fedora-Container-40-Fedora-40',
      ),
      year: fc.integer({ min: 2000, max: 2099 }),
      month: fc.integer({ min: 1, max: 12 }),
      day: fc.integer({ min: 1, max: 28 }),
      type: fc.constantFrom<ComposeType>('production', 'nightly', 'test', 'ci', 'development'),
      respin: fc.integer({ min: 0, max: 30 }),
    })
    .map((p) => {
      const date = `${p.year}${String(p.month).padStart(2, '0')}${String(p.day).padStart(2, '0')}`;
      const suffix = { production: '', nightly: '.n', test: '.t', ci: '.ci', development: '.d' }[p.type];
      return { ...p, date, id: `${p.release}-${date}${suffix}.${p.respin}` };
    });
  type Generated = typeof composeId extends fc.Arbitrary<infer T> ? T : never;
  const byDateThenRespin = (a: Generated, b: Generated) =>
    a.date !== b.date ? (a.date < b.date ? -1 : 1) : Math.sign(a.respin - b.respin);

  it('parses generated ids back to their parts', () => {
    fc.assert(
      fc.property(composeId, (g) => {
        expect(parseComposeId(g.id)).toEqual({
          id: g.id,
          release: g.release,
          date: g.date,
          type: g.type,
          respin: g.respin,
        });
      }),
    );
  });

  it('orders by (date, respin) and nothing else', () => {
    fc.assert(
      fc.property(composeId, composeId, (a, b) => {
        expect(compareComposeIds(a.id, b.id)).toBe(byDateThenRespin(a, b));
      }),
    );
  });

  it('is antisymmetric and reflexive', () => {
    fc.assert(
      fc.property(composeId, composeId, (a, b) => {
        expect(compareComposeIds(a.id, a.id)).toBe(0);
        expect(Math.sign(compareComposeIds(a.id, b.id))).toBe(-Math.sign(compareComposeIds(b.id, a.id)) || 0);
      }),
    );
  });

  it('is transitive', () => {
    fc.assert(
      fc.property(composeId, composeId, composeId, (a, b, c) => {
        if (compareComposeIds(a.id, b.id) <= 0 && compareComposeIds(b.id, c.id) <= 0)
          expect(compareComposeIds(a.id, c.id)).toBeLessThanOrEqual(0);
        if (compareComposeIds(a.id, b.id) < 0 && compareComposeIds(b.id, c.id) <= 0)
          expect(compareComposeIds(a.id, c.id)).toBeLessThan(0);
      }),
    );
  });

  it('sorts any list into the same (date, respin) order', () => {
    fc.assert(
      fc.property(fc.array(composeId, { maxLength: 20 }), (ids) => {
        const sorted = [...ids].sort((a, b) => compareComposeIds(a.id, b.id));
        for (let i = 1; i < sorted.length; i += 1)
          expect(byDateThenRespin(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0);
      }),
    );
  });
});

describe('compareComposesAcrossReleases', () => {
  const order = (a: string, b: string) => compareComposesAcrossReleases(parseComposeId(a), parseComposeId(b));

  it('puts a higher release of the same product first, whatever the dates (latest moving from 41 to 42)', () => {
    expect(order('Fedora-41-20241130.0', 'Fedora-42-20241101.n.0')).toBe(-1);
    expect(order('Fedora-42-20241101.n.0', 'Fedora-41-20241130.0')).toBe(1);
    expect(order('Fedora-Container-40-Fedora-40-20240501.n.0', 'Fedora-Container-41-Fedora-41-20240401.n.0')).toBe(-1);
  });

  it('orders one release by date and respin, and releases without a number (Rawhide) or of other products by date', () => {
    expect(order('Fedora-40-20240501.n.0', 'Fedora-40-20240501.n.1')).toBe(-1);
    expect(order('Fedora-Rawhide-20240601.n.0', 'Fedora-41-20240501.n.0')).toBe(1);
    expect(order('Fedora-41-20240601.n.0', 'Fedora-Rawhide-20240501.n.0')).toBe(1);
    expect(order('CentOS-Stream-10-20240501.0', 'Fedora-41-20240401.0')).toBe(1);
  });
});
