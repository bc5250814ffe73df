import { describe, expect, it } from 'vitest';
import { durationMs } from '../../src/domain/duration.js';
import { DomainError } from '../../src/domain/errors.js';
import { indexInstances } from '../../src/domain/index-instances.js';
import { overrideTargets, type OverridableRepository } from '../../src/domain/override.js';

const repositories: OverridableRepository[] = [
  { repository: 'fedora', decision: 'blocked' },
  { repository: 'fedora-minimal', decision: 'pass' },
  { repository: 'fedora-toolbox', decision: 'blocked', waitEnded: true },
];
const valid = { mode: 'hybrid', reason: 'aarch64 failed', operator: 'alice' };

function rejection(request: unknown, repos = repositories): string {
  try {
    overrideTargets(request, repos);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).type).toBe('InvalidOverride');
    return (error as Error).message;
  }
  throw new Error('expected the override to be rejected');
}

describe('overrideTargets', () => {
  it('applies to the named blocked repository, or to every repository still awaiting one', () => {
    expect(overrideTargets({ ...valid, repository: 'fedora' }, repositories)).toEqual(['fedora']);
    expect(overrideTargets(valid, repositories)).toEqual(['fedora']);
  });

  it.each([
    [{ ...valid, mode: 'everything' }, 'mode "everything" is not one of hybrid, publish-available, skip'],
    [{ ...valid, reason: ' ' }, 'reason is empty'],
    [{ ...valid, operator: '' }, 'operator is empty'],
    [
      { ...valid, repository: 'nope' },
      'repository "nope" is not part of this run (fedora: blocked, fedora-minimal: pass, fedora-toolbox: blocked)',
    ],
    [{ ...valid, repository: 'fedora-minimal' }, 'is pass, not blocked'],
    [{ ...valid, repository: 'fedora-toolbox' }, 'wait for an override of "fedora-toolbox" has ended'],
    [null, 'mode undefined'],
    [{ ...valid, reason: 'fine\nforged: hybrid by root' }, 'reason holds a newline, tab or other control character'],
    [{ ...valid, operator: 'alice\u001b]0;pwned\u0007' }, 'operator holds a newline, tab or other control character'],
    [{ ...valid, reason: 'r'.repeat(501) }, 'reason is 501 characters long; at most 500'],
    [{ ...valid, operator: 'o'.repeat(65) }, 'operator is 65 characters long; at most 64'],
  ])('rejects %j', (request, text) => {
    expect(rejection(request)).toContain(text);
  });

  it('rejects a second override of the same repository', () => {
    const overridden = [
      {
        repository: 'fedora',
        decision: 'blocked' as const,
        override: { repository: 'fedora', mode: 'skip' as const, reason: 'r', operator: 'bob', at: 'now' },
      },
    ];
    expect(rejection({ ...valid, repository: 'fedora' }, overridden)).toContain('already overridden (skip by bob)');
    expect(rejection(valid, overridden)).toContain('no repository is blocked and awaiting an override');
  });
});

describe('indexInstances', () => {
  const published = [
    {
      registry: 'r/ns',
      repository: 'fedora',
      tag: '40',
      digest: 'sha256:index',
      instances: [
        { ociArch: 'amd64', digest: 'sha256:old-amd64', composeId: 'Fedora-40-20240501.n.0' },
        { ociArch: 's390x', digest: 'sha256:old-s390x' },
        { ociArch: 'arm64', digest: 'sha256:old-arm64', composeId: 'Fedora-40-20240501.n.0' },
      ],
    },
  ];
  const pushed = [{ ociArch: 'amd64', digest: 'sha256:new-amd64' }];

  it('hybrid carries the published instance of each missing arch with its compose id', () => {
    expect(
      indexInstances({
        composeId: 'Fedora-40-20240502.n.0',
        pushed,
        carryMissing: true,
        missing: ['s390x', 'arm64'],
        published,
      }),
    ).toEqual([
      { ociArch: 'amd64', digest: 'sha256:new-amd64', composeId: 'Fedora-40-20240502.n.0' },
      { ociArch: 'arm64', digest: 'sha256:old-arm64', composeId: 'Fedora-40-20240501.n.0' },
      { ociArch: 's390x', digest: 'sha256:old-s390x' },
    ]);
  });

  it('otherwise publishes only what this compose built', () => {
    expect(indexInstances({ composeId: 'c', pushed, carryMissing: false, missing: ['arm64'], published })).toEqual([
      { ociArch: 'amd64', digest: 'sha256:new-amd64', composeId: 'c' },
    ]);
  });
});

describe('durationMs', () => {
  it.each([
    ['72h', 259_200_000],
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['2d', 172_800_000],
  ])('%s', (text, ms) => expect(durationMs(text)).toBe(ms));

  it('refuses anything else', () => expect(() => durationMs('3 days')).toThrow('not a duration'));
});

describe('overrideTargets for runs that accepted any text before it was checked', () => {
  it('still accepts a multi-line reason when lenient', () => {
    expect(overrideTargets({ ...valid, reason: 'two\nlines' }, repositories, { lenientText: true })).toEqual([
      'fedora',
    ]);
  });
});
