import { describe, expect, it } from 'vitest';
import { isAllowedLocation } from '../../src/domain/allowed-location.js';

const FEDORA = ['https://kojipkgs.fedoraproject.org/compose/', '/mnt/koji/compose'];

describe('isAllowedLocation ([amqp] allowed_locations)', () => {
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
  ])('refuses %j', (location) => {
    expect(isAllowedLocation(location, FEDORA)).toBe(false);
  });

  it('allows nothing without prefixes', () => {
    expect(isAllowedLocation('https://kojipkgs.fedoraproject.org/compose/43/x', [])).toBe(false);
  });
});
