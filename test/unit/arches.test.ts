import { describe, expect, it } from 'vitest';
import { toOciArch } from '../../src/domain/arches.js';
import { domainErrorOf } from './helpers/domain-error.js';

const FEDORA = { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' };

describe('toOciArch', () => {
  it.each([
    ['x86_64', 'amd64'],
    ['aarch64', 'arm64'],
    ['ppc64le', 'ppc64le'],
    ['s390x', 's390x'],
  ])('maps %s to %s', (composeArch, ociArch) => {
    expect(toOciArch(composeArch, FEDORA)).toBe(ociArch);
  });

  it('follows the config, whatever it says', () => {
    expect(toOciArch('x86_64', { x86_64: 'x86_64' })).toBe('x86_64');
  });

  it('fails on an unmapped arch, naming it and the config line to add', () => {
    const error = domainErrorOf(() =>
      toOciArch('riscv64', FEDORA, 'metadata/images.json: payload.images.Container.riscv64[0]'),
    );
    expect(error.type).toBe('UnmappedArchitecture');
    expect(error.message).toContain('metadata/images.json: payload.images.Container.riscv64[0]');
    expect(error.message).toContain('"riscv64"');
    expect(error.message).toContain('Fix: map it in the config: [architectures] riscv64 = "<OCI arch name>"');
  });

  it('never guesses, even for a well-known arch', () => {
    expect(domainErrorOf(() => toOciArch('x86_64', { aarch64: 'arm64' })).type).toBe('UnmappedArchitecture');
  });

  it.each(['constructor', 'toString', '__proto__'])('does not take %s from the object prototype', (composeArch) => {
    expect(domainErrorOf(() => toOciArch(composeArch, FEDORA)).type).toBe('UnmappedArchitecture');
  });

  it('treats an empty mapping as unmapped', () => {
    expect(domainErrorOf(() => toOciArch('s390x', { s390x: '' })).type).toBe('UnmappedArchitecture');
  });
});
