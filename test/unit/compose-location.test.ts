import { describe, expect, it } from 'vitest';
import {
  baseName,
  checkComposeRoot,
  isFetchableLocation,
  resolveImageLocation,
} from '../../src/domain/compose-location.js';
import { domainErrorOf } from './helpers/domain-error.js';

describe('resolveImageLocation', () => {
  it.each([
    [
      'https://kojipkgs.example.org/compose/Fedora-40-20240501.n.0/compose',
      'Container/x86_64/images/a.oci.tar.xz',
      'https://kojipkgs.example.org/compose/Fedora-40-20240501.n.0/compose/Container/x86_64/images/a.oci.tar.xz',
    ],
    [
      'https://kojipkgs.example.org/compose/',
      './Container/x86_64/images/a.oci.tar.xz',
      'https://kojipkgs.example.org/compose/Container/x86_64/images/a.oci.tar.xz',
    ],
    [
      '/srv/compose',
      'Container/x86_64/../x86_64/images/a.oci.tar.xz',
      '/srv/compose/Container/x86_64/images/a.oci.tar.xz',
    ],
    ['/', 'a.oci.tar.xz', '/a.oci.tar.xz'],
    ['/srv/compose', 'https://cdn.example.org/a.oci.tar.xz', 'https://cdn.example.org/a.oci.tar.xz'],
    [
      '/srv/compose',
      'oci://quay.io/fedora/fedora:40-x86_64@sha256:abc',
      'oci://quay.io/fedora/fedora:40-x86_64@sha256:abc',
    ],
  ])('resolves against %s: %s', (root, reference, expected) => {
    expect(resolveImageLocation(root, reference)).toBe(expected);
  });

  it.each(['/etc/passwd', '../../etc/passwd', 'Container/../../x', '', '.'])(
    'refuses %j, which is not inside the compose',
    (reference) => {
      expect(resolveImageLocation('/srv/compose', reference)).toBeUndefined();
    },
  );
});

describe('compose locations', () => {
  it('accepts http(s) URLs and absolute paths as the compose root', () => {
    expect(() => checkComposeRoot('https://example.org/compose')).not.toThrow();
    expect(() => checkComposeRoot('/srv/compose')).not.toThrow();
    const error = domainErrorOf(() => checkComposeRoot('composes/Fedora-40'));
    expect(error.type).toBe('UnsupportedImageLocation');
    expect(error.message).toContain('"composes/Fedora-40"');
    expect(error.message).toContain('Fix:');
  });

  it('tells fetchable locations', () => {
    expect(isFetchableLocation('HTTPS://example.org/a')).toBe(true);
    expect(isFetchableLocation('/srv/a')).toBe(true);
    expect(isFetchableLocation('oci://quay.io/a')).toBe(false);
    expect(isFetchableLocation('ftp://example.org/a')).toBe(false);
  });

  it('takes the file name from a path or URL', () => {
    expect(baseName('Container/x86_64/images/a.oci.tar.xz')).toBe('a.oci.tar.xz');
    expect(baseName('https://example.org/x/a.oci.tar.xz?sig=1#frag')).toBe('a.oci.tar.xz');
  });
});
