import { describe, expect, it } from 'vitest';
import { archTag, isRawhide, releaseTags } from '../../src/domain/tags.js';
import type { ComposeInfo } from '../../src/domain/types.js';
import { domainErrorOf } from './helpers/domain-error.js';

const f40: ComposeInfo = { composeId: 'Fedora-40-20240501.n.0', releaseShort: 'Fedora', releaseVersion: '40' };
const rawhide: ComposeInfo = {
  composeId: 'Fedora-Rawhide-20240501.n.1',
  releaseShort: 'Fedora',
  releaseVersion: 'Rawhide',
};

describe('archTag', () => {
  it('is <release>-<compose arch>', () => {
    expect(archTag('40', 'aarch64')).toBe('40-aarch64');
    expect(archTag('41', 'x86_64')).toBe('41-x86_64');
  });
});

describe('releaseTags', () => {
  it('tags the current release "latest" too', () => {
    expect(releaseTags(f40, { latest: '40', rawhide: '41' })).toEqual({
      release: '40',
      manifestTags: ['40', 'latest'],
    });
  });

  it('tags another release with its version only', () => {
    expect(releaseTags(f40, { latest: '41' })).toEqual({ release: '40', manifestTags: ['40'] });
    expect(releaseTags(f40, {})).toEqual({ release: '40', manifestTags: ['40'] });
  });

  it('publishes Rawhide as the configured number and "rawhide"', () => {
    expect(releaseTags(rawhide, { latest: '40', rawhide: '41' })).toEqual({
      release: '41',
      manifestTags: ['41', 'rawhide'],
    });
  });

  it('recognizes Rawhide in any case', () => {
    expect(isRawhide({ ...rawhide, releaseVersion: 'rawhide' })).toBe(true);
    expect(isRawhide({ ...rawhide, releaseVersion: 'RAWHIDE' })).toBe(true);
    expect(isRawhide(f40)).toBe(false);
  });

  it('fails a Rawhide compose when the config does not name its release', () => {
    const error = domainErrorOf(() => releaseTags(rawhide, { latest: '40' }));
    expect(error.type).toBe('ReleaseNotConfigured');
    expect(error.message).toContain('Fedora-Rawhide-20240501.n.1 is a Rawhide compose');
    expect(error.message).toContain('Fix: set [releases] rawhide = ');
  });

  it('fails when the configured Rawhide release is not a valid tag', () => {
    const error = domainErrorOf(() => releaseTags(rawhide, { rawhide: '4 1' }));
    expect(error.type).toBe('ReleaseNotConfigured');
    expect(error.message).toContain('[releases] rawhide = "4 1"');
  });

  it('fails when the compose version cannot be a tag', () => {
    const error = domainErrorOf(() => releaseTags({ ...f40, releaseVersion: '40 Beta' }, {}));
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toContain('payload.release.version');
    expect(error.message).toContain('metadata/composeinfo.json');
    expect(error.message).toContain('Fix:');
  });
});

describe('[releases] allowed', () => {
  const info = (composeId: string, releaseVersion: string) => ({ composeId, releaseShort: 'Fedora', releaseVersion });
  it('publishes a compose of an allowed release, Rawhide included', () => {
    expect(
      releaseTags(info('Fedora-43-20251023.0', '43'), { latest: '43', allowed: ['42', '43', 'Rawhide'] }).manifestTags,
    ).toEqual(['43', 'latest']);
    expect(
      releaseTags(info('Fedora-Rawhide-20251201.n.0', 'Rawhide'), { rawhide: '44', allowed: ['rawhide'] }).release,
    ).toBe('44');
  });
  it('refuses a compose of any other release, naming the key to change', () => {
    const error = domainErrorOf(() => releaseTags(info('Fedora-41-20241025.0', '41'), { allowed: ['42', '43'] }));
    expect(error.type).toBe('ReleaseNotConfigured');
    expect(error.message).toContain('release "41"');
    expect(error.message).toContain('[releases] allowed');
  });
});
