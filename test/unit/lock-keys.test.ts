import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { repositoryLockKeys } from '../../src/domain/lock-keys.js';

const registries = ['quay.io', 'registry.fedoraproject.org'];
const keys = (release: string, indexTags: string[], perTag = true) =>
  repositoryLockKeys({ registries, repository: 'fedora', release, indexTags, perTag });

describe('repository lock keys', () => {
  it('give each index tag its own lock, the release tag keeping the arch tag records', () => {
    expect(keys('43', ['43', 'latest'])).toEqual({
      all: ['quay.io,registry.fedoraproject.org/fedora:43', 'quay.io,registry.fedoraproject.org/fedora:latest'],
      records: 'quay.io,registry.fedoraproject.org/fedora:43',
    });
  });

  it('keep the one lock per repository for runs started before', () => {
    expect(keys('43', ['43', 'latest'], false)).toEqual({
      all: ['quay.io,registry.fedoraproject.org/fedora'],
      records: 'quay.io,registry.fedoraproject.org/fedora',
    });
  });

  it('share a lock exactly when two runs share a tag, and list them in one order', () => {
    const tag = fc.constantFrom('41', '42', '43', '44', 'latest', 'rawhide');
    fc.assert(
      fc.property(tag, fc.array(tag), tag, fc.array(tag), (releaseA, tagsA, releaseB, tagsB) => {
        const a = keys(releaseA, [releaseA, ...tagsA]);
        const b = keys(releaseB, [releaseB, ...tagsB]);
        const shared = a.all.filter((key) => b.all.includes(key));
        const sharedTags = [releaseA, ...tagsA].filter((t) => [releaseB, ...tagsB].includes(t));
        expect(shared.length > 0).toBe(sharedTags.length > 0);
        // Taken in sorted order: the shared locks come in the same relative order for both runs.
        expect(a.all.filter((key) => shared.includes(key))).toEqual(b.all.filter((key) => shared.includes(key)));
        expect(a.all).toContain(a.records);
      }),
    );
  });
});
