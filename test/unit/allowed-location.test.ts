import { describe, expect, it } from 'vitest';
import { checkAllowedLocation, isAllowedLocation } from '../../src/domain/allowed-location.js';
import { DomainError } from '../../src/domain/errors.js';

const FEDORA = ['https://kojipkgs.fedoraproject.org/compose/', '/mnt/koji/compose'];

describe('isAllowedLocation ([compose] allowed_locations)', () => {
  it.each([
    'https://kojipkgs.fedoraproject.org/compose/43/Fedora-43-20251023.0/compose',
    'https://KOJIPKGS.fedoraproject.org/compose/43/Fedora-43-20251023.0/',
    'https://kojipkgs.fedoraproject.org//compose/./43/Fedora-43-20251023.0',
    '/mnt/koji/compose/43/Fedora-43-20251023.0',
  ])('allows %s', (location) => {
    expect(isAllowedLocation(location, FEDORA)).toBe(true);
  });

  it.each([
    'https://kojipkgs.fedoraproject.org.evil.example/compose/43/x',
    'https://evil.example/https://kojipkgs.fedoraproject.org/compose/',
    'https://kojipkgs.fedoraproject.org/compose-evil/43/x',
    'https://kojipkgs.fedoraproject.org/compose/../private/x',
    'https://kojipkgs.fedoraproject.org/compose/%2e%2e/private/x',
    'https://user:pw@kojipkgs.fedoraproject.org/compose/43/x',
    'http://kojipkgs.fedoraproject.org/compose/43/x',
    'file:///mnt/koji/compose/43',
    '/mnt/koji/compose/../../etc',
    '/mnt/koji/composed',
    'relative/compose',
    '/mnt/koji/compose/43\n/etc',
    'https://kojipkgs.fedoraproject.org/compose/%E0%A4%A/x',
  ])('refuses %j', (location) => {
    expect(isAllowedLocation(location, FEDORA)).toBe(false);
  });

  it('allows nothing without prefixes', () => {
    expect(isAllowedLocation('https://kojipkgs.fedoraproject.org/compose/43/x', [])).toBe(false);
  });
});

describe('checkAllowedLocation', () => {
  const allowed = { prefixes: FEDORA, key: '[compose].allowed_locations' };

  it('lets through a location under a prefix, and anything when no key is set', () => {
    expect(() => checkAllowedLocation('https://kojipkgs.fedoraproject.org/compose/43/x', allowed)).not.toThrow();
    expect(() => checkAllowedLocation('https://evil.example/compose/43/x', undefined)).not.toThrow();
  });

  it('refuses any other as UntrustedInput, naming the location, the key and its prefixes', () => {
    const error = (() => {
      try {
        checkAllowedLocation('https://evil.example/compose/43/x', allowed);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({ type: 'UntrustedInput' });
    expect((error as Error).message).toBe(
      'the compose location "https://evil.example/compose/43/x" is not under any of [compose].allowed_locations (https://kojipkgs.fedoraproject.org/compose/, /mnt/koji/compose): ' +
        'composes are read only from there, so nothing was requested from it. Fix: publish a compose from one of those, or add its prefix to [compose].allowed_locations (of every worker)',
    );
  });

  it('names the redirect that leads outside', () => {
    expect(() =>
      checkAllowedLocation('https://evil.example/x', allowed, {
        redirectedFrom: 'https://kojipkgs.fedoraproject.org/compose/43/x',
      }),
    ).toThrow(
      'https://kojipkgs.fedoraproject.org/compose/43/x redirects to "https://evil.example/x", which is not under any of [compose].allowed_locations',
    );
  });
});
