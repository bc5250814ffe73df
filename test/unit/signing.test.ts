import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, signingSettings } from '../../src/config.js';
import { normalizePem, signatureTag } from '../../src/domain/signing.js';
import { cosignAccess } from '../../src/tools/cosign.js';
import { testTempDir } from './helpers/temp-dir.js';

const MINIMAL = `
[[registries]]
url = "127.0.0.1:5000/fedora"

[repositories]
Container_Base = "fedora"

[architectures]
x86_64 = "amd64"
`;

const PEM = `-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE13M8tas/S2B4BVM09wZyO/ngm3c3
DuJrloZOHw667qrzoG+gkVu0U+fw/G+xhnD3FYR58356X2LGufiwK45lhQ==
-----END PUBLIC KEY-----
`;

describe('[signing]', () => {
  it('is optional: without it nothing is signed', () => {
    expect(signingSettings(parseConfig(MINIMAL, 'test.toml'))).toBeUndefined();
  });

  it('names the private key, the variable of its passphrase and the public keys', () => {
    const config = parseConfig(
      `${MINIMAL}\n[signing]\nprivate_key = "/k/cosign.key"\npassphrase_env = "SIGSTORE_PASSPHRASE"\npublic_keys = ["/k/old.pub", "/k/cosign.pub"]\n`,
      'test.toml',
    );
    expect(signingSettings(config)).toEqual({
      privateKey: '/k/cosign.key',
      passphraseEnv: 'SIGSTORE_PASSPHRASE',
      publicKeys: ['/k/old.pub', '/k/cosign.pub'],
    });
  });

  it.each([
    ['public_keys = []', 'public_keys', 'list at least the private key'],
    ['passphrase_env = "the passphrase"', 'passphrase_env', 'must be the name of an environment variable'],
    ['passphrase = "hunter2"', 'passphrase', 'unknown key'],
  ])('refuses %s, naming the key', (line, key, text) => {
    const base: Record<string, string> = {
      private_key: 'private_key = "/k/cosign.key"',
      passphrase_env: 'passphrase_env = "SIGSTORE_PASSPHRASE"',
      public_keys: 'public_keys = ["/k/cosign.pub"]',
    };
    base[key] = line;
    let message = '';
    try {
      parseConfig(`${MINIMAL}\n[signing]\n${Object.values(base).join('\n')}\n`, 'test.toml');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      message = (error as Error).message;
    }
    expect(message).toContain(`[signing].${key}`);
    expect(message).toContain(text);
  });
});

describe('signing helpers', () => {
  it('stores the signatures of a digest under the sigstore attachment tag', () => {
    expect(signatureTag(`sha256:${'ab'.repeat(32)}`)).toBe(`sha256-${'ab'.repeat(32)}.sig`);
    expect(() => signatureTag('sha256:../x')).toThrow('not a sha256 digest');
  });

  it('compares PEM keys whatever the line breaks and surrounding text', () => {
    const [begin, first, second, end] = PEM.trim().split('\n');
    const flat = `${begin}\n${first}${second}\n${end}`;
    expect(normalizePem(`Public key:\r\n${PEM.replace(/\n/g, '\r\n')}  `)).toBe(normalizePem(PEM));
    expect(normalizePem(flat)).toBe(normalizePem(PEM));
    expect(normalizePem(PEM.replace('MFkw', 'MFkx'))).not.toBe(normalizePem(PEM));
    expect(normalizePem('no key here')).toBeUndefined();
  });

  it('gives cosign the registry credentials as DOCKER_CONFIG, and cert_dir as its CA bundle and client certificate', async () => {
    const dir = testTempDir('cosign-access-');
    const certDir = testTempDir('cosign-certs-');
    writeFileSync(join(certDir, 'ca.crt'), '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
    writeFileSync(join(certDir, 'client.cert'), 'cert');
    writeFileSync(join(certDir, 'client.key'), 'key');
    const authfile = join(certDir, 'auth.json');
    writeFileSync(authfile, '{"auths":{"quay.io":{"auth":"dTpw"}}}');
    const access = await cosignAccess({ authfile, tlsVerify: true, certDir }, dir);
    expect(readFileSync(join(dir, 'config.json'), 'utf8')).toBe('{"auths":{"quay.io":{"auth":"dTpw"}}}');
    expect(access).toMatchObject({
      dir,
      tlsVerify: true,
      clientCert: join(certDir, 'client.cert'),
      clientKey: join(certDir, 'client.key'),
    });
    expect(readFileSync(access.caBundle!, 'utf8')).toContain('-----BEGIN CERTIFICATE-----\nCA\n');
    // Anonymous: an empty config, never the worker user's ~/.docker/config.json.
    const anonymous = await cosignAccess({ tlsVerify: false }, testTempDir('cosign-anon-'));
    expect(JSON.parse(readFileSync(join(anonymous.dir, 'config.json'), 'utf8'))).toEqual({ auths: {} });
    expect(anonymous.caBundle).toBeUndefined();
  });
});
