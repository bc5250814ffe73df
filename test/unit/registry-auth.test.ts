import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAuthChallenge, tokenOf, tokenUrl } from '../../src/tools/registry-auth.js';
import { parseReference } from '../../src/tools/registry-api.js';

describe('registry challenges', () => {
  it('reads the challenges real registries send', () => {
    // distribution with htpasswd; Docker Hub; quay.io.
    expect(parseAuthChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic' });
    expect(
      parseAuthChallenge(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/fedora:pull"',
      ),
    ).toEqual({
      scheme: 'bearer',
      realm: 'https://auth.docker.io/token',
      service: 'registry.docker.io',
      scope: 'repository:library/fedora:pull',
    });
    expect(parseAuthChallenge('Bearer realm="https://quay.io/v2/auth",service="quay.io"')).toEqual({
      scheme: 'bearer',
      realm: 'https://quay.io/v2/auth',
      service: 'quay.io',
    });
  });

  it('turns down what it cannot answer', () => {
    expect(parseAuthChallenge(undefined)).toBeUndefined();
    expect(parseAuthChallenge('')).toBeUndefined();
    expect(parseAuthChallenge('Negotiate abc')).toBeUndefined();
    expect(parseAuthChallenge('Bearer service="x"')).toBeUndefined();
  });

  it('never throws on whatever a registry sends', () => {
    fc.assert(fc.property(fc.string(), (header) => void parseAuthChallenge(header)));
  });

  it('asks the token service for the scope of the request', () => {
    const url = tokenUrl({
      scheme: 'bearer',
      realm: 'https://quay.io/v2/auth',
      service: 'quay.io',
      scope: 'repository:fedora/fedora:pull,push',
    });
    expect(url.href).toBe('https://quay.io/v2/auth?service=quay.io&scope=repository%3Afedora%2Ffedora%3Apull%2Cpush');
  });

  it('takes token or access_token from the answer, nothing else', () => {
    expect(tokenOf({ token: 'a' })).toBe('a');
    expect(tokenOf({ access_token: 'b' })).toBe('b');
    expect(tokenOf({ token: '' })).toBeUndefined();
    expect(tokenOf({ token: 1 })).toBeUndefined();
    expect(tokenOf(null)).toBeUndefined();
    expect(tokenOf('token')).toBeUndefined();
  });
});

describe('registry references', () => {
  it('splits host, repository and tag or digest', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseReference('127.0.0.1:5000/fedora/fedora:40')).toEqual({
      host: '127.0.0.1:5000',
      repository: 'fedora/fedora',
      reference: '40',
    });
    expect(parseReference(`quay.io/fedora/fedora@${digest}`)).toEqual({
      host: 'quay.io',
      repository: 'fedora/fedora',
      reference: digest,
    });
  });

  it('refuses a reference without a repository or a tag', () => {
    expect(() => parseReference('quay.io')).toThrow(/not a registry reference/);
    expect(() => parseReference('127.0.0.1:5000/fedora')).toThrow(/not a registry reference/);
  });

  it('refuses what would change the request path', () => {
    for (const reference of [
      'quay.io/fedora/../admin:40',
      'quay.io/fedora:../../v2/_catalog',
      'quay.io/fedora:40?n=1',
      'quay.io/fedora%2Fx:40',
      'quay.io/Fedora:40',
      'quay.io/fedora@sha256:XYZ',
      `quay.io/fedora:${'a'.repeat(129)}`,
    ])
      expect(() => parseReference(reference), reference).toThrow(/not a repository name and tag or digest/);
  });
});
