import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  allowedLocations,
  ConfigError,
  configWarnings,
  loadConfig,
  parseConfig,
  publishSettings,
} from '../../src/config.js';
import { testTempDir } from './helpers/temp-dir.js';

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
  it('reads the production example with its defaults, and the local one with the embedded Temporal', () => {
    const config = parseConfig(readFileSync('config/fedora.toml', 'utf8'), 'config/fedora.toml');
    expect(config.temporal).toMatchObject({
      address: 'temporal.example.org:7233',
      namespace: 'default',
      task_queue: 'compose-publisher',
    });
    expect(
      parseConfig(readFileSync('config/local.toml', 'utf8'), 'config/local.toml').temporal.address,
    ).toBeUndefined();
    expect(config.registries[0]).toEqual({ url: 'quay.io/fedora', credential_prefix: 'QUAY_IO_', tls_verify: true });
    expect(config.releases).toEqual({ latest: '43', rawhide: '44', allowed: ['42', '43', 'Rawhide'] });
    expect(config.gate.wait_for_override).toBe('72h');
    expect(config.images).toEqual({ types: ['docker', 'container'], ignore_arches: [] });
  });

  it("the example's compose id patterns admit production and nightly composes of its releases, and nothing else", () => {
    const config = parseConfig(readFileSync('config/fedora.toml', 'utf8'), 'config/fedora.toml');
    const patterns = (config.amqp?.compose_id_patterns ?? []).map((source) => new RegExp(source));
    const admitted = (id: string) => patterns.some((pattern) => pattern.test(id));
    for (const id of [
      'Fedora-43-20251023.0',
      'Fedora-43-20251024.n.0',
      'Fedora-42-20250409.0',
      'Fedora-Rawhide-20251201.n.1',
    ])
      expect(admitted(id), id).toBe(true);
    for (const id of [
      'Fedora-40-20240501.n.0',
      'Fedora-43-20251023.t.0',
      'Fedora-Container-43-Fedora-43-20251023.n.0',
      'Fedora-43-20251023.0"',
    ])
      expect(admitted(id), id).toBe(false);
  });

  it('refuses a compose status Pungi never sends, listing the real ones', () => {
    const message = configError(`${MINIMAL}\n[amqp]\nurl = "amqp://127.0.0.1"\nstatuses = ["FINISH"]\n`);
    expect(message).toContain('[amqp].statuses[0]');
    expect(message).toContain('STARTED, FINISHED, FINISHED_INCOMPLETE, DOOMED, TERMINATED');
  });

  it('fills defaults for the optional tables', () => {
    const config = parseConfig(MINIMAL, 'test.toml');
    expect(config.temporal.task_queue).toBe('compose-publisher');
    expect(config.publish.max_parallel_pushes).toBe(Math.min(8, Math.max(2, 2 * availableParallelism())));
    expect(publishSettings(config)).toEqual({
      registries: [{ url: '127.0.0.1:5000/fedora', tlsVerify: false }],
      repositories: { Container_Base: 'fedora' },
      architectures: { x86_64: 'amd64' },
      releases: {},
      images: { types: ['docker', 'container'], ignoreArches: [] },
      waitForOverride: '72h',
      stalenessWarnAfter: '3d',
      maxParallelPushes: config.publish.max_parallel_pushes,
    });
    expect(config.staleness).toEqual({ every: '1h', warn_after: '3d' });
    expect(config.gate.when_wait_ends).toBe('stay-blocked');
  });

  it('gives the repositories whose wait ends in a hybrid publication by policy, per repository over the default', () => {
    const text = `${MINIMAL.replace('Container_Base = "fedora"', 'Container_Base = "fedora"\nContainer_Minimal_Base = "fedora-minimal"')}
[gate]
when_wait_ends = "hybrid"

[gate.when_wait_ends_for]
fedora = "stay-blocked"
`;
    expect(publishSettings(parseConfig(text, 'test.toml')).hybridOnWaitEnd).toEqual(['fedora-minimal']);
  });

  it('refuses a wait-end policy for a repository the config does not publish, and an unknown policy', () => {
    const unknownRepository = configError(`${MINIMAL}\n[gate.when_wait_ends_for]\nfedora-minmal = "hybrid"\n`);
    expect(unknownRepository).toContain(
      '[gate].when_wait_ends_for.fedora-minmal: is not a repository of [repositories] (fedora)',
    );
    expect(configError(`${MINIMAL}\n[gate]\nwhen_wait_ends = "publish"\n`)).toContain(
      'must be one of stay-blocked, hybrid',
    );
    expect(configError(`${MINIMAL}\n[staleness]\nwarn_after = "three days"\n`)).toContain('[staleness].warn_after');
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

describe('config [amqp]', () => {
  const withAmqp = (table: string) => `${MINIMAL}\n[amqp]\nurl = "amqp://guest:guest@127.0.0.1:5672/%2F"\n${table}`;

  it('is optional', () => {
    expect(parseConfig(MINIMAL, 'test.toml').amqp).toBeUndefined();
  });

  it('fills the listener defaults around a url', () => {
    expect(parseConfig(withAmqp(''), 'test.toml').amqp).toEqual({
      url: 'amqp://guest:guest@127.0.0.1:5672/%2F',
      exchange: 'amq.topic',
      queue: 'compose-publisher',
      routing_keys: ['org.fedoraproject.*.pungi.compose.status.change'],
      statuses: ['FINISHED', 'FINISHED_INCOMPLETE'],
      compose_id_patterns: [],
      dead_letter_exchange: 'compose-publisher.dlx',
      prefetch: 10,
      max_redeliveries: 120,
      topic_prefix: 'org.fedoraproject.prod',
      seed_announcements: true,
    });
  });

  it('takes every key when given', () => {
    const amqp = parseConfig(
      withAmqp(`exchange = "fedora"
queue = "publisher-stg"
routing_keys = ["org.fedoraproject.stg.pungi.compose.status.change"]
statuses = ["FINISHED"]
compose_id_patterns = ["^Fedora-4[0-9]-", "^Fedora-Rawhide-"]
dead_letter_exchange = "publisher-stg.dlx"
prefetch = 2
topic_prefix = "org.fedoraproject.stg"
`),
      'test.toml',
    ).amqp;
    expect(amqp).toMatchObject({
      exchange: 'fedora',
      queue: 'publisher-stg',
      statuses: ['FINISHED'],
      prefetch: 2,
      topic_prefix: 'org.fedoraproject.stg',
    });
    expect(amqp?.compose_id_patterns).toEqual(['^Fedora-4[0-9]-', '^Fedora-Rawhide-']);
  });

  it('names the key of a missing url, a non-AMQP url and an unknown key', () => {
    expect(configError(`${MINIMAL}\n[amqp]\nqueue = "q"\n`)).toMatch(/\[amqp\]\.url is missing: add url = /);
    expect(configError(`${MINIMAL}\n[amqp]\nurl = "http://broker:5672"\n`)).toMatch(
      /\[amqp\]\.url: must be an amqp:\/\/ or amqps:\/\/ URL/,
    );
    expect(configError(withAmqp('routing_key = "x"\n'))).toContain(
      '[amqp].routing_key: unknown key; did you mean routing_keys?',
    );
  });

  it('rejects a compose id pattern that is not a regular expression, naming its position', () => {
    const message = configError(withAmqp('compose_id_patterns = ["^Fedora-", "Fedora-[4"]\n'));
    expect(message).toContain('[amqp].compose_id_patterns[1]: not a valid regular expression');
  });

  it('rejects empty status and routing key lists and a prefetch of 0', () => {
    expect(configError(withAmqp('statuses = []\n'))).toContain('[amqp].statuses: list at least one compose status');
    expect(configError(withAmqp('routing_keys = []\n'))).toContain(
      '[amqp].routing_keys: list at least one routing key',
    );
    expect(configError(withAmqp('prefetch = 0\n'))).toContain('[amqp].prefetch');
  });
});

describe('config [registries].cert_dir', () => {
  function withCertDir(files: string[]): string {
    const dir = testTempDir('certs-');
    for (const file of files) writeFileSync(join(dir, file), 'x');
    const file = join(dir, 'config.toml');
    writeFileSync(file, MINIMAL.replace('tls_verify = false', `tls_verify = false\ncert_dir = "${dir}"`));
    return file;
  }

  it('accepts a client certificate named .cert with its .key, and CA certificates as .crt', () => {
    expect(loadConfig(withCertDir(['client.cert', 'client.key', 'ca.crt'])).registries[0]!.cert_dir).toBeDefined();
  });

  it('explains that skopeo wants .cert, not .crt, for a client certificate', () => {
    expect(() => loadConfig(withCertDir(['client.crt', 'client.key']))).toThrow(
      /\[registries\]\[0\]\.cert_dir: client\.key has no matching client\.cert; rename client\.crt to client\.cert: skopeo reads \*\.crt as CA certificates/,
    );
  });

  it('names a cert_dir that does not exist', () => {
    const file = join(testTempDir('certs-'), 'config.toml');
    writeFileSync(file, MINIMAL.replace('tls_verify = false', 'tls_verify = false\ncert_dir = "/nonexistent/certs"'));
    expect(() => loadConfig(file)).toThrow('[registries][0].cert_dir = "/nonexistent/certs" cannot be read (ENOENT)');
  });
});

describe('config [compose] allowed_locations (workers and listeners)', () => {
  const KOJI = 'https://kojipkgs.fedoraproject.org/compose/';

  it('is one list for the worker and the listener, with no warning', () => {
    const config = parseConfig(
      `${MINIMAL}\n[compose]\nallowed_locations = ["${KOJI}", "/mnt/koji/compose"]\n`,
      'test.toml',
    );
    expect(allowedLocations(config)).toEqual({
      prefixes: [KOJI, '/mnt/koji/compose'],
      key: '[compose].allowed_locations',
    });
    expect(configWarnings(config)).toEqual([]);
  });

  it('left out: any location (undefined), no deprecation warning', () => {
    const config = parseConfig(MINIMAL, 'test.toml');
    expect(allowedLocations(config)).toBeUndefined();
    expect(configWarnings(config)).toEqual([]);
  });

  it('still reads the deprecated [amqp] allowed_locations, for both, with a warning that names the new key', () => {
    const config = parseConfig(
      `${MINIMAL}\n[amqp]\nurl = "amqp://127.0.0.1"\nallowed_locations = ["${KOJI}"]\n`,
      'test.toml',
    );
    expect(allowedLocations(config)).toEqual({ prefixes: [KOJI], key: '[amqp].allowed_locations' });
    expect(configWarnings(config)).toEqual([
      'test.toml: [amqp].allowed_locations is deprecated; move it to [compose].allowed_locations (one list for workers and listeners): [compose] allowed_locations = [...]',
    ]);
  });

  it('an empty deprecated list still counts as unset (as before, the listener refuses it), with the warning', () => {
    const config = parseConfig(`${MINIMAL}\n[amqp]\nurl = "amqp://127.0.0.1"\nallowed_locations = []\n`, 'test.toml');
    expect(allowedLocations(config)).toBeUndefined();
    expect(configWarnings(config)).toHaveLength(1);
  });

  it('refuses both keys at once, saying which to keep', () => {
    const message = configError(
      `${MINIMAL}\n[compose]\nallowed_locations = ["${KOJI}"]\n\n[amqp]\nurl = "amqp://127.0.0.1"\nallowed_locations = ["${KOJI}"]\n`,
    );
    expect(message).toContain(
      '[amqp].allowed_locations: is the deprecated name of [compose].allowed_locations, which is set too: keep the prefixes in [compose].allowed_locations only and remove this one',
    );
  });

  it('refuses an empty list, a relative path and a URL that is not http(s), naming the entry', () => {
    expect(configError(`${MINIMAL}\n[compose]\nallowed_locations = []\n`)).toContain(
      '[compose].allowed_locations: list at least one prefix',
    );
    expect(configError(`${MINIMAL}\n[compose]\nallowed_locations = ["${KOJI}", "compose/"]\n`)).toContain(
      '[compose].allowed_locations[1]: must be an http(s):// URL or an absolute path',
    );
    expect(configError(`${MINIMAL}\n[compose]\nallowed_locations = ["ftp://kojipkgs.fedoraproject.org/"]\n`)).toContain(
      '[compose].allowed_locations[0]: must be',
    );
    expect(configError(`${MINIMAL}\n[compose]\nallowed_location = ["${KOJI}"]\n`)).toContain(
      '[compose].allowed_location: unknown key; did you mean allowed_locations?',
    );
  });

  it('is set in the production-shaped example and the deploy config, under [compose], without warnings', () => {
    for (const file of ['config/fedora.toml', 'deploy/config.toml']) {
      const config = loadConfig(file);
      expect(allowedLocations(config), file).toEqual({ prefixes: [KOJI], key: '[compose].allowed_locations' });
      expect(configWarnings(config), file).toEqual([]);
    }
  });
});
