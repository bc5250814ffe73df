import { describe, expect, it } from 'vitest';
import { nextDecision, type DecidedRepository } from '../../src/domain/decision.js';
import type { OverrideRecord } from '../../src/domain/override.js';
import type { RepositoryDecision } from '../../src/domain/types.js';

const base = { repository: 'fedora', built: ['amd64'], published: ['amd64', 's390x'], missing: ['s390x'] };
const blocked: DecidedRepository = { ...base, decision: 'blocked' };
const fresh = (
  decision: RepositoryDecision['decision'],
  extra: Partial<RepositoryDecision> = {},
): RepositoryDecision => ({ ...base, decision, ...extra });
const override = (mode: OverrideRecord['mode']): OverrideRecord => ({
  repository: 'fedora',
  mode,
  reason: 'releng#1',
  operator: 'alice',
  at: '2024-05-02T00:00:00.000Z',
});

describe('nextDecision', () => {
  it('follows the gate when there is no override', () => {
    expect(nextDecision(blocked, fresh('pass', { missing: [] }))).toEqual({ ...base, missing: [], decision: 'pass' });
    expect(nextDecision({ ...base, decision: 'pass' }, fresh('blocked')).decision).toBe('blocked');
  });

  it('turns an override into its decision, with the arches publish-available drops', () => {
    expect(nextDecision({ ...blocked, override: override('hybrid') }, fresh('blocked')).decision).toBe('overridden');
    expect(nextDecision({ ...blocked, override: override('publish-available') }, fresh('blocked'))).toMatchObject({
      decision: 'overridden',
      dropped: ['s390x'],
    });
    expect(nextDecision({ ...blocked, override: override('skip') }, fresh('blocked')).decision).toBe('skipped');
  });

  it('lets a newer published compose win over an override', () => {
    expect(
      nextDecision(
        { ...blocked, override: override('hybrid') },
        fresh('superseded', { newerComposeId: 'Fedora-40-20240503.n.0' }),
      ),
    ).toMatchObject({
      decision: 'superseded',
      newerComposeId: 'Fedora-40-20240503.n.0',
      override: override('hybrid'),
    });
  });

  it('keeps a final decision as it is', () => {
    const superseded: DecidedRepository = { ...base, decision: 'superseded', newerComposeId: 'Fedora-40-20240503.n.0' };
    expect(nextDecision(superseded, fresh('pass'))).toBe(superseded);
    const skipped: DecidedRepository = { ...base, decision: 'skipped', override: override('skip') };
    expect(nextDecision(skipped, fresh('superseded'))).toBe(skipped);
  });
});
