import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { repositoryLockKey } from '../../src/domain/lock-keys.js';

const registries = ['registry.fedoraproject.org', 'quay.io'];
const keys = (release: string, perRelease = true) =>
  repositoryLockKey({ registries, repository: 'fedora', release, perRelease });

describe('repository lock key', () => {
  it('give each repository and release its own lock', () => {
    expect(keys('43')).toBe('quay.io,registry.fedoraproject.org/fedora:43');
  });

  it('keep the one lock per repository for runs started before', () => {
    expect(keys('43', false)).toBe('quay.io,registry.fedoraproject.org/fedora');
  });

  it('share a lock exactly when two runs publish the same repository and release, whatever the order of registries', () => {
    const release = fc.constantFrom('40', '41', '42', '43', '44');
    fc.assert(
      fc.property(release, release, fc.boolean(), (a, b, reversed) => {
        const other = repositoryLockKey({
          registries: reversed ? [...registries].reverse() : registries,
          repository: 'fedora',
          release: b,
          perRelease: true,
        });
        expect(keys(a) === other).toBe(a === b);
      }),
    );
  });
});
