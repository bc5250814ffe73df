import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, publishSettings } from '../../src/config.js';

const MINIMAL = `
[[registries]]
url = "127.0.0.1:5000/fedora"
tls_verify = false

[repositories]
Container_Base = "fedora"

[architectures]
x86_64 = "amd64"
`;

function configError(text: string): string {
  try {
    parseConfig(text, 'test.toml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('reads the example config with its defaults', () => {
    const config = parseConfig(readFileSync('config/example.toml', 'utf8'), 'config/example.toml');
    expect(config.temporal).toMatchObject({ namespace: 'default', task_queue: 'compose-publisher' });
    expect(config.temporal.address).toBeUndefined();
    expect(config.registries[0]).toEqual({ url: 'quay.io/fedora', credential_prefix: 'QUAY_IO_', tls_verify: true });
    expect(config.releases).toEqual({ latest: '40', rawhide: '41' });
    expect(config.gate.wait_for_override).toBe('72h');
  });

  it('fills defaults for the optional tables', () => {
    const config = parseConfig(MINIMAL, 'test.toml');
    expect(config.temporal.task_queue).toBe('compose-publisher');
    expect(config.publish.max_parallel_pushes).toBe(2);
    expect(publishSettings(config)).toEqual({
      registries: [{ url: '127.0.0.1:5000/fedora', tlsVerify: false }],
      repositories: { Container_Base: 'fedora' },
      architectures: { x86_64: 'amd64' },
      releases: {},
      waitForOverride: '72h',
      maxParallelPushes: 2,
    });
  });

  it('names the file and the key of a wrong value', () => {
    const message = configError(MINIMAL.replace('tls_verify = false', 'tls_verify = "no"'));
    expect(message).toContain('test.toml');
    expect(message).toContain('[registries][0].tls_verify');
  });

  it('names a missing required table', () => {
    const message = configError(MINIMAL.replace('[repositories]\nContainer_Base = "fedora"', ''));
    expect(message).toContain('[repositories]');
    expect(message).toContain('missing');
  });

  it('rejects an unknown key so a typo is not silently ignored', () => {
    const message = configError(`${MINIMAL}\n[gate]\nwait_for_overide = "1h"\n`);
    expect(message).toContain('[gate]');
    expect(message).toContain('wait_for_overide');
  });

  it('explains a bad registry url and a bad duration', () => {
    expect(configError(MINIMAL.replace('127.0.0.1:5000/fedora', 'https://quay.io'))).toContain('host[:port]/namespace');
    expect(configError(`${MINIMAL}\n[gate]\nwait_for_override = "3 days"\n`)).toContain('duration like "72h"');
  });

  it('reports TOML syntax errors with a line number', () => {
    expect(configError('[registries\nurl = 1')).toMatch(/test\.toml: not valid TOML at line 1/);
  });
});
