import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config.js';
import { connectionOptions } from '../../src/client/connection.js';
import { testTempDir } from './helpers/temp-dir.js';

const REST =
  '[[registries]]\nurl = "quay.io/fedora"\n[repositories]\nContainer_Base = "fedora"\n[architectures]\nx86_64 = "amd64"\n';
const config = (temporal: string) => parseConfig(`[temporal]\n${temporal}\n${REST}`, 'prod.toml');

describe('connectionOptions', () => {
  it('uses the embedded address without TLS when nothing is configured', () => {
    expect(connectionOptions(config(''))).toEqual({ address: '127.0.0.1:7233' });
  });

  it('turns on TLS with an API key read from the named environment variable (Temporal Cloud)', () => {
    const options = connectionOptions(
      config('address = "ns.acct.tmprl.cloud:7233"\napi_key_env = "TEMPORAL_API_KEY"'),
      { TEMPORAL_API_KEY: 'k' },
    );
    expect(options).toEqual({ address: 'ns.acct.tmprl.cloud:7233', tls: {}, apiKey: 'k' });
  });

  it('reads an mTLS pair and a CA', () => {
    const dir = testTempDir('tls-');
    for (const name of ['client.pem', 'client.key', 'ca.pem']) writeFileSync(join(dir, name), name);
    const options = connectionOptions(
      config(
        `address = "t:7233"\ntls_cert = "${dir}/client.pem"\ntls_key = "${dir}/client.key"\ntls_ca = "${dir}/ca.pem"`,
      ),
    );
    expect(options.tls).toEqual({
      clientCertPair: { crt: Buffer.from('client.pem'), key: Buffer.from('client.key') },
      serverRootCACertificate: Buffer.from('ca.pem'),
    });
  });

  it.each([
    ['address = "t:7233"\ntls_cert = "/x.pem"', '[temporal] tls_cert and tls_key go together'],
    [
      'address = "t:7233"\napi_key_env = "NO_SUCH_KEY"',
      '[temporal].api_key_env = "NO_SUCH_KEY" but NO_SUCH_KEY is not set',
    ],
    [
      'address = "t:7233"\ntls_ca = "/nonexistent/ca.pem"',
      '[temporal].tls_ca = "/nonexistent/ca.pem" cannot be read (ENOENT)',
    ],
  ])('explains a bad setting: %s', (temporal, message) => {
    expect(() => connectionOptions(config(temporal), {})).toThrow(message);
  });
});
