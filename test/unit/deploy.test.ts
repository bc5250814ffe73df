// There is no Docker engine where the tests run, so the stack is checked structurally: what `docker compose`
// would trip over (unknown services, unpinned images, commands the CLI lacks, mismatched names) fails here.
import { SEARCH_ATTRIBUTES } from '../../src/domain/run-contract/search-attributes.js';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config.js';
import { COSIGN_VERSION } from '../../src/tools/cosign.js';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: unknown };
  env_file?: Array<{ path: string; required?: boolean }>;
  volumes?: string[];
  environment?: Record<string, string>;
  ports?: string[];
}

const stack = parse(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = stack.services;
const dockerfile = readFileSync('Dockerfile', 'utf8');
const deployConfig = loadConfig('deploy/config.toml');
const cliCommands = [...readFileSync('src/cli/main.ts', 'utf8').matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => m[1]);

describe('docker-compose.yml', () => {
  it('has the whole stack', () => {
    expect(Object.keys(services).sort()).toEqual([
      'listener',
      'postgresql',
      'rabbitmq',
      'registry',
      'temporal',
      'temporal-setup',
      'temporal-ui',
      'worker',
    ]);
  });

  it('pins every image to a version', () => {
    for (const [name, service] of Object.entries(services)) {
      if (service.build) continue;
      expect(service.image, name).toMatch(/^[a-z0-9./-]+:\d[\w.-]*$/);
    }
  });

  it('builds worker and listener from the Dockerfile and runs real CLI commands', () => {
    expect(cliCommands).toEqual(expect.arrayContaining(['worker', 'listen']));
    expect(services.worker).toMatchObject({ build: '.', command: ['worker'] });
    expect(services.listener).toMatchObject({ build: '.', command: ['listen'] });
    for (const name of ['worker', 'listener']) expect(cliCommands).toContain(services[name]!.command![0]);
  });

  it('starts in order: every dependency exists and is waited for by health, completion (one-shot jobs) or start', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        expect(Object.keys(services), `${name} depends on ${dependency}`).toContain(dependency);
        const expected = services[dependency]!.healthcheck
          ? 'service_healthy'
          : dependency.endsWith('-setup')
            ? 'service_completed_successfully'
            : 'service_started';
        expect(condition, `${name} → ${dependency}`).toBe(expected);
      }
    }
    // The server has no health check of its own: the setup job waits for it, and everything else waits for the job.
    expect(JSON.stringify(services['temporal-setup']!.command)).toContain('until temporal operator cluster health');
    expect(services.worker!.depends_on).toHaveProperty('temporal-setup');
  });

  it('registers the search attributes the workflows upsert', () => {
    const script = JSON.stringify(services['temporal-setup']!.command);
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) expect(script).toContain(`${name}=${type}`);
  });

  it('mounts the config, keeps state on volumes, and reads credentials from an optional, git-ignored env file', () => {
    for (const name of ['worker', 'listener']) {
      expect(services[name]!.volumes).toContain('./deploy/config.toml:/etc/compose-publisher/config.toml:ro');
    }
    for (const volume of Object.values(services)
      .flatMap((s) => s.volumes ?? [])
      .filter((v) => !v.startsWith('.'))) {
      expect(Object.keys(stack.volumes)).toContain(volume.split(':')[0]);
    }
    expect(services.worker!.env_file).toEqual([{ path: 'deploy/registry-credentials.env', required: false }]);
    expect(readFileSync('.gitignore', 'utf8')).toContain('deploy/registry-credentials.env');
  });
});

describe('deploy/config.toml', () => {
  const config = deployConfig;

  it("is valid and points at the stack's services", () => {
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.registries.map((r) => r.url)).toEqual(['registry:5000/fedora']);
    expect(config.amqp?.url).toMatch(/@rabbitmq:5672\//);
    expect(config.publish.work_dir).toBe('/var/lib/compose-publisher');
    expect(config.metrics?.address).toBe('0.0.0.0:9464');
  });

  it('names the same credential variables as the env example', () => {
    const example = readFileSync('deploy/registry-credentials.env.example', 'utf8');
    const names = [...example.matchAll(/^([A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    const expected = config.registries
      .flatMap((r) => (r.credential_prefix ? [`${r.credential_prefix}PASSWORD`, `${r.credential_prefix}USER`] : []))
      .sort();
    expect(names).toEqual(expected);
  });
});

describe('Dockerfile', () => {
  it('builds in one stage and runs from a slim last one with the container tools', () => {
    expect(dockerfile.match(/^FROM /gm)).toHaveLength(3);
    expect(dockerfile).toMatch(/^FROM node:[\d.]+-bookworm-slim AS runtime$/m);
    expect(dockerfile).toMatch(/apt-get install[^\n]*buildah skopeo xz-utils/);
    expect(dockerfile).toContain('npm run build');
    expect(dockerfile).toContain('ENTRYPOINT ["node", "/app/bin/compose-publisher.js"]');
  });

  it('carries the cosign the worker signs with, of the version src/tools/cosign.ts names', () => {
    expect(dockerfile).toContain(`ARG COSIGN_VERSION=${COSIGN_VERSION}\n`);
    expect(dockerfile).toContain('go install');
    expect(dockerfile).toContain('github.com/sigstore/cosign/v2/cmd/cosign@v${COSIGN_VERSION}');
    expect(dockerfile).toContain('COPY --from=cosign /out/cosign /usr/local/bin/cosign');
    expect(dockerfile).toContain('ENV COSIGN_PATH=/usr/local/bin/cosign');
  });

  it('bakes in no credentials', () => {
    expect(dockerfile).not.toMatch(/^(ENV|ARG)\b.*(PASSWORD|TOKEN|SECRET|API_KEY)/im);
    expect(readFileSync('.dockerignore', 'utf8')).toContain('deploy/registry-credentials.env');
  });

  it('exposes the metrics port the stack publishes', () => {
    expect(dockerfile).toContain(`EXPOSE ${deployConfig.metrics?.address.split(':')[1]}`);
    expect(services.worker!.ports).toContain('9464:9464');
  });
});
