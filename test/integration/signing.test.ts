// Signed publication (issue 28), below the workflow: the signImages activity against the harness's real registry,
// checked with the tool users verify with (cosign verify --key), and the worker's refusal to start with a key it
// cannot use.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { MockActivityEnvironment } from '@temporalio/testing';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { activityEnvironment } from '../../src/activities/environment.js';
import { createActivities, type SignImagesInput, type SignImagesResult } from '../../src/activities/index.js';
import { checkSigningKey, type SigningKey } from '../../src/activities/signing-key.js';
import { workerSigningKey } from '../../src/cli/commands/worker.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import { freePort } from '../../src/dev/free-port.js';
import type { PublishSettings } from '../../src/domain/settings.js';
import { signatureTag } from '../../src/domain/signing.js';
import { CLI } from '../support/cli.js';
import { cosignKeyPair, userVerifies } from '../support/cosign.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { testSettings } from '../support/publisher.js';
import { scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

const PASSPHRASE = 'correct horse battery staple';
/** skopeo with sigstore enabled (scripts/setup.sh builds it): Debian's refuses every sigstoreSigned policy. */
const SKOPEO_SIGSTORE = fileURLToPath(new URL('../../.tools/skopeo-sigstore-1.16.1/skopeo', import.meta.url));

/** A tiny single-layer image, or an index of such images, as an OCI layout at dir (tag "t"). */
function ociLayout(dir: string, contents: string[]): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const blob = (bytes: Buffer | string) => {
    const data = Buffer.from(bytes);
    const hex = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, 'blobs', 'sha256', hex), data);
    return { digest: `sha256:${hex}`, size: data.length };
  };
  const arches = ['amd64', 'arm64'];
  const manifests = contents.map((text, index) => {
    const tar = Buffer.alloc(1024 * 3);
    tar.write('hello', 0);
    tar.write('0000644\0', 100);
    tar.write('0000000\0', 108);
    tar.write('0000000\0', 116);
    tar.write(`${Buffer.byteLength(text).toString(8).padStart(11, '0')}\0`, 124);
    tar.write('00000000000\0', 136);
    tar.write('0', 156);
    tar.write('ustar\x0000', 257);
    tar.write('        ', 148);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += tar[i]!;
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    tar.write(text, 512);
    const layer = blob(gzipSync(tar));
    const config = blob(
      JSON.stringify({
        architecture: arches[index % 2],
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [`sha256:${createHash('sha256').update(tar).digest('hex')}`] },
      }),
    );
    const manifest = blob(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layer }],
      }),
    );
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      platform: { architecture: arches[index % 2], os: 'linux' },
    };
  });
  const top =
    manifests.length === 1
      ? manifests[0]!
      : {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          ...blob(
            JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests }),
          ),
        };
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: top.mediaType,
          digest: top.digest,
          size: top.size,
          annotations: { 'org.opencontainers.image.ref.name': 't' },
        },
      ],
    }),
  );
}

let layouts = 0;
/** Pushes a new image (one text) or index (several) to reference; returns its digest in the registry. */
async function pushImage(dir: string, reference: string, contents: string[]): Promise<string> {
  const layout = join(dir, `layout-${++layouts}`);
  ociLayout(layout, contents);
  const digestFile = `${layout}.digest`;
  await execa('skopeo', [
    'copy',
    '--quiet',
    '--all',
    '--dest-tls-verify=false',
    '--digestfile',
    digestFile,
    `oci:${layout}:t`,
    `docker://${reference}`,
  ]);
  return readFileSync(digestFile, 'utf8').trim();
}

/**
 * Copies reference out of the registry as podman users pull it: containers/image with a policy.json that requires a
 * sigstore signature by publicKey for the repository, and registries.d reading sigstore attachments.
 */
async function podmanStylePull(dir: string, reference: string, publicKey: string) {
  const repository = reference.replace(/@.*$/, '').replace(/:[^/:]*$/, '');
  const policy = join(dir, `policy-${++layouts}.json`);
  writeFileSync(
    policy,
    JSON.stringify({
      default: [{ type: 'reject' }],
      transports: {
        docker: {
          [repository]: [{ type: 'sigstoreSigned', keyPath: publicKey, signedIdentity: { type: 'matchRepository' } }],
        },
        dir: { '': [{ type: 'insecureAcceptAnything' }] },
      },
    }),
  );
  const registriesD = join(dir, 'registries.d');
  mkdirSync(registriesD, { recursive: true });
  writeFileSync(
    join(registriesD, 'sigstore.yaml'),
    `docker:\n  ${repository.split('/')[0]}:\n    use-sigstore-attachments: true\n`,
  );
  const result = await execa(
    SKOPEO_SIGSTORE,
    [
      '--policy',
      policy,
      '--registries.d',
      registriesD,
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${reference}`,
      `dir:${join(dir, `pulled-${layouts}`)}`,
    ],
    { reject: false },
  );
  return { exitCode: result.exitCode, error: /msg="(.*)"/.exec(result.stderr)?.[1] ?? result.stderr };
}

/** The digests of an index's instances. */
async function indexInstances(reference: string): Promise<string[]> {
  const raw = await execa('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${reference}`]);
  return (JSON.parse(raw.stdout) as { manifests: Array<{ digest: string }> }).manifests.map((m) => m.digest);
}

/** How many signatures the digest's sigstore attachment (sha256-<hex>.sig) holds: one layer each. */
async function signatureCount(registryUrl: string, repository: string, digest: string): Promise<number> {
  const [host, ...namespace] = registryUrl.split('/');
  const response = await fetch(
    `http://${host}/v2/${[...namespace, repository].join('/')}/manifests/${signatureTag(digest)}`,
    { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } },
  );
  if (response.status === 404) return 0;
  const manifest = (await response.json()) as { layers: unknown[] };
  return manifest.layers.length;
}

describe('signed publication', () => {
  let dir: string;
  let ours: { key: string; pub: string };
  let other: { key: string; pub: string };
  let settings: PublishSettings;
  let registry: string;
  let signing: SigningKey;
  let mock: MockActivityEnvironment;
  const env = { ...process.env, SIGSTORE_PASSPHRASE: PASSPHRASE };

  const signImages = (
    key: SigningKey | undefined,
    input: SignImagesInput,
    worker: { workDir: string; env: NodeJS.ProcessEnv } = { workDir: 'worker', env },
  ) => {
    const activities = createActivities(
      activityEnvironment({ workDir: join(dir, worker.workDir), settings, env: worker.env, signing: key }),
    );
    return mock.run<[SignImagesInput], SignImagesResult, typeof activities.signImages>(activities.signImages, input);
  };

  beforeAll(async () => {
    dir = scratchSubdir('signing');
    [ours, other] = await Promise.all([
      cosignKeyPair(dir, 'ours', PASSPHRASE),
      cosignKeyPair(dir, 'other', 'another one'),
    ]);
    settings = testSettings();
    registry = settings.registries[0]!.url;
    signing = await checkSigningKey(
      { privateKey: ours.key, passphraseEnv: 'SIGSTORE_PASSPHRASE', publicKeys: [other.pub, ours.pub] },
      env,
      'test.toml',
    );
    mock = new MockActivityEnvironment();
  });

  it('signs each published digest once, verifiable with the configured key and refused with another', async () => {
    const amd64 = await pushImage(dir, `${registry}/fedora:43-x86_64`, ['fedora 43 x86_64']);
    const arm64 = await pushImage(dir, `${registry}/fedora:43-aarch64`, ['fedora 43 aarch64']);
    const input: SignImagesInput = {
      repository: 'fedora',
      registries: settings.registries,
      images: [
        { registry, digest: amd64, tags: ['43-x86_64'] },
        { registry, digest: arm64, tags: ['43-aarch64'] },
      ],
    };
    const started = Date.now();
    const first = await signImages(signing, input);
    const firstMs = Date.now() - started;
    // ours.pub verifies; other.pub (listed first in public_keys) does not, and is not claimed.
    expect(first).toEqual({
      enabled: true,
      signatures: [
        { registry, digest: amd64, tags: ['43-x86_64'], signed: true, verified: true, keys: [ours.pub] },
        { registry, digest: arm64, tags: ['43-aarch64'], signed: true, verified: true, keys: [ours.pub] },
      ],
    });

    for (const reference of [`${registry}/fedora:43-x86_64`, `${registry}/fedora@${arm64}`]) {
      const accepted = await userVerifies(reference, ours.pub);
      expect(accepted.exitCode, accepted.stderr).toBe(0);
      const [payload] = JSON.parse(accepted.stdout) as Array<{ critical: Record<string, Record<string, string>> }>;
      // The signed identity is the repository (no tag): what policy.json's matchRepository compares.
      expect(payload!.critical.identity).toEqual({ 'docker-reference': `${registry}/fedora` });
      const refused = await userVerifies(reference, other.pub);
      expect(refused.exitCode).toBe(12);
      expect(refused.stderr).toContain('no matching signatures');
    }

    // An identical respin: nothing signed again, still one signature per digest.
    const again = Date.now();
    const second = await signImages(signing, input);
    const secondMs = Date.now() - again;
    expect(second.signatures.map((s) => [s.signed, s.verified, s.keys])).toEqual([
      [false, true, [ours.pub]],
      [false, true, [ours.pub]],
    ]);
    expect(await signatureCount(registry, 'fedora', amd64)).toBe(1);
    expect(await signatureCount(registry, 'fedora', arm64)).toBe(1);
    console.log(
      `signImages, 2 digests with a tag each, public_keys of 2: first (sign + verify) ${firstMs} ms, respin (verify only) ${secondMs} ms`,
    );
  });

  it('signs an index and its tags; an index replaced behind its back fails verification, for users and for the run', async () => {
    const index = await pushImage(dir, `${registry}/fedora:44`, ['fedora 44 amd64', 'fedora 44 arm64']);
    await execa('skopeo', [
      'copy',
      '--quiet',
      '--all',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      `docker://${registry}/fedora@${index}`,
      `docker://${registry}/fedora:latest`,
    ]);
    const input = {
      repository: 'fedora',
      registries: settings.registries,
      images: [{ registry, digest: index, tags: ['44', 'latest'] }],
    };
    expect((await signImages(signing, input)).signatures).toEqual([
      { registry, digest: index, tags: ['44', 'latest'], signed: true, verified: true, keys: [ours.pub] },
    ]);
    expect((await userVerifies(`${registry}/fedora:44`, ours.pub)).exitCode).toBe(0);

    // Someone with write access to the registry pushes another index to :44.
    const forged = await pushImage(dir, `${registry}/fedora:44`, ['forged amd64', 'forged arm64']);
    const user = await userVerifies(`${registry}/fedora:44`, ours.pub);
    // What a verifying client sees: no signature for what :44 now is, exit 10.
    expect({ exitCode: user.exitCode, error: user.stderr.split('\n').find((l) => l.startsWith('Error:')) }).toEqual({
      exitCode: 10,
      error: 'Error: no signatures found',
    });
    expect((await userVerifies(`${registry}/fedora:latest`, ours.pub)).exitCode).toBe(0);

    const failure = await signImages(signing, input).catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'SignatureNotVerified', nonRetryable: true });
    const message = (failure as Error).message;
    expect(message).toContain(`${registry}/fedora:44 (published as ${index}) does not verify`);
    expect(message).toContain(`on registry ${registry.split('/')[0]}`);
    expect(message).toContain(ours.pub);
    expect(message).toContain('it has no sigstore signature');
    expect(forged).not.toBe(index);
    expect(await signatureCount(registry, 'fedora', index)).toBe(1);
  });

  it('a containers/image policy.json requiring the signature accepts what was signed and refuses another key, an unsigned or a replaced image', async () => {
    const arch = await pushImage(dir, `${registry}/fedora:45-x86_64`, ['fedora 45 x86_64']);
    const index = await pushImage(dir, `${registry}/fedora:45`, ['fedora 45 amd64', 'fedora 45 arm64']);
    // Pulling through an index, containers/image checks the signature of the instance it copies (not the index's):
    // the arch images of an index are signed, as the run signs them before it writes the index.
    const instances = await indexInstances(`${registry}/fedora:45`);
    await signImages(signing, {
      repository: 'fedora',
      registries: settings.registries,
      images: [
        { registry, digest: arch, tags: ['45-x86_64'] },
        ...instances.map((digest) => ({ registry, digest, tags: [] })),
        { registry, digest: index, tags: ['45'] },
      ],
    });
    for (const reference of [`${registry}/fedora:45-x86_64`, `${registry}/fedora:45`]) {
      expect(await podmanStylePull(dir, reference, ours.pub)).toEqual({ exitCode: 0, error: '' });
      const refused = await podmanStylePull(dir, reference, other.pub);
      expect(refused.exitCode).toBe(1);
      expect(refused.error).toMatch(
        /^(copying system image from manifest list: )?Source image rejected: cryptographic signature verification failed: invalid signature when validating ASN.1 encoded signature$/,
      );
    }
    await pushImage(dir, `${registry}/fedora:45`, ['replaced amd64', 'replaced arm64']);
    expect(await podmanStylePull(dir, `${registry}/fedora:45`, ours.pub)).toEqual({
      exitCode: 1,
      error:
        'copying system image from manifest list: Source image rejected: A signature was required, but no signature exists',
    });
  });

  it('signs again where a signature was copied along with the image from another repository (its identity is that one)', async () => {
    const digest = await pushImage(dir, `${registry}/fedora:46`, ['fedora 46']);
    const input = (repository: string) => ({
      repository,
      registries: settings.registries,
      images: [{ registry, digest, tags: ['46'] }],
    });
    expect((await signImages(signing, input('fedora'))).signatures[0]).toMatchObject({ signed: true });
    for (const tag of ['46', signatureTag(digest)]) {
      await execa('skopeo', [
        'copy',
        '--quiet',
        '--preserve-digests',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        `docker://${registry}/fedora:${tag}`,
        `docker://${registry}/fedora-minimal:${tag}`,
      ]);
    }
    // cosign alone accepts the copy (it does not compare identities); podman's matchRepository would not.
    expect((await userVerifies(`${registry}/fedora-minimal:46`, ours.pub)).exitCode).toBe(0);
    expect((await signImages(signing, input('fedora-minimal'))).signatures[0]).toMatchObject({
      signed: true,
      keys: [ours.pub],
    });
    expect(await signatureCount(registry, 'fedora-minimal', digest)).toBe(2);
    expect((await signImages(signing, input('fedora-minimal'))).signatures[0]).toMatchObject({ signed: false });
  });

  it('during a key rotation signs with the new key and reports every public key that verifies', async () => {
    const digest = await pushImage(dir, `${registry}/fedora:42-x86_64`, ['fedora 42 x86_64']);
    const input = {
      repository: 'fedora',
      registries: settings.registries,
      images: [{ registry, digest, tags: ['42-x86_64'] }],
    };
    const oldWorker = { workDir: 'old-worker', env: { ...env, OLD_PASSPHRASE: 'another one' } };
    const old = await checkSigningKey(
      { privateKey: other.key, passphraseEnv: 'OLD_PASSPHRASE', publicKeys: [other.pub] },
      oldWorker.env,
      'old.toml',
    );
    const signedOld = await signImages(old, input, oldWorker);
    expect(signedOld.signatures[0]).toMatchObject({ signed: true, keys: [other.pub] });
    // The new key, with both public keys: signed again (by the new key), both verify.
    const rotated = await signImages(signing, input);
    expect(rotated.signatures[0]).toMatchObject({ signed: true, verified: true, keys: [other.pub, ours.pub] });
    expect(await signatureCount(registry, 'fedora', digest)).toBe(2);
    expect((await signImages(signing, input)).signatures[0]).toMatchObject({ signed: false });
    expect(await signatureCount(registry, 'fedora', digest)).toBe(2);
  });

  it('a registry that cannot be reached is a retryable failure', async () => {
    const down = `127.0.0.1:${await freePort()}/down`;
    const activities = createActivities(
      activityEnvironment({
        workDir: join(dir, 'down-worker'),
        settings: { ...settings, registries: [{ url: down, tlsVerify: false }] },
        env,
        signing,
      }),
    );
    const failure = await mock
      .run<[SignImagesInput], SignImagesResult, typeof activities.signImages>(activities.signImages, {
        repository: 'fedora',
        registries: [{ url: down, tlsVerify: false }],
        images: [{ registry: down, digest: `sha256:${'b'.repeat(64)}`, tags: [] }],
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ type: 'TransientRegistryError', nonRetryable: false });
    expect((failure as Error).message).toContain('connection refused');
  });

  it('without [signing] signs nothing; a repository or registry outside the worker’s config is refused', async () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(
      await signImages(undefined, {
        repository: 'fedora',
        registries: settings.registries,
        images: [{ registry, digest, tags: ['43'] }],
      }),
    ).toEqual({ enabled: false, signatures: [] });
    await expect(
      signImages(signing, {
        repository: 'elsewhere',
        registries: settings.registries,
        images: [{ registry, digest, tags: [] }],
      }),
    ).rejects.toMatchObject({ type: 'UntrustedInput', nonRetryable: true });
    await expect(
      signImages(signing, {
        repository: 'fedora',
        registries: [{ url: '127.0.0.1:1/loot', tlsVerify: false }],
        images: [{ registry: '127.0.0.1:1/loot', digest, tags: [] }],
      }),
    ).rejects.toMatchObject({ type: 'UntrustedInput', nonRetryable: true });
    await expect(
      signImages(signing, {
        repository: 'fedora',
        registries: settings.registries,
        images: [{ registry, digest: 'sha256:../../x', tags: [] }],
      }),
    ).rejects.toMatchObject({ type: 'InvalidInput', nonRetryable: true });
  });
});

describe('a worker refuses to start with a signing key it cannot use', () => {
  let dir: string;
  let ours: { key: string; pub: string };
  let other: { key: string; pub: string };

  beforeAll(async () => {
    dir = scratchSubdir('signing-start');
    [ours, other] = await Promise.all([
      cosignKeyPair(dir, 'ours', PASSPHRASE),
      cosignKeyPair(dir, 'other', 'another one'),
    ]);
  });

  const config = (signing: string) =>
    parseConfig(
      `[[registries]]\nurl = "127.0.0.1:5000/fedora"\n[repositories]\nContainer_Base = "fedora"\n[architectures]\nx86_64 = "amd64"\n${signing}`,
      'worker.toml',
    );
  const table = (key: string, pubs: string[], passphraseEnv = 'SIGSTORE_PASSPHRASE') =>
    `[signing]\nprivate_key = "${key}"\npassphrase_env = "${passphraseEnv}"\npublic_keys = [${pubs.map((p) => `"${p}"`).join(', ')}]\n`;
  const refusal = (signing: string, env: NodeJS.ProcessEnv = { SIGSTORE_PASSPHRASE: PASSPHRASE }) =>
    workerSigningKey(config(signing), { info: () => undefined }, env).then(
      () => {
        throw new Error('the worker would start');
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as Error).message;
      },
    );

  it.each([
    [
      'a missing key file',
      () => table(join(dir, 'missing.key'), [ours.pub]),
      () => [`[signing] private_key = "${join(dir, 'missing.key')}" cannot be read`, 'no such file', 'Fix: '],
    ],
    [
      'a wrong passphrase',
      () => table(ours.key, [ours.pub], 'WRONG_PASSPHRASE'),
      () => [`[signing] private_key = "${ours.key}" does not decrypt with the passphrase in WRONG_PASSPHRASE`, 'Fix: '],
    ],
    [
      'an unset passphrase variable',
      () => table(ours.key, [ours.pub], 'UNSET_PASSPHRASE'),
      () => ['passphrase_env = "UNSET_PASSPHRASE", but UNSET_PASSPHRASE is not set', 'Fix: set UNSET_PASSPHRASE'],
    ],
    [
      'public keys without the private key’s own',
      () => table(ours.key, [other.pub]),
      () => [
        `[signing] public_keys (${other.pub}) does not hold the public key of private_key = "${ours.key}"`,
        `cosign public-key --key ${ours.key}`,
      ],
    ],
    [
      'a public key file that is missing',
      () => table(ours.key, [ours.pub, join(dir, 'gone.pub')]),
      () => [`[signing] public_keys[1] = "${join(dir, 'gone.pub')}" cannot be read`],
    ],
  ])('refuses %s, naming the file and the fix', async (_name, signing, expected) => {
    const message = await refusal(signing(), { SIGSTORE_PASSPHRASE: PASSPHRASE, WRONG_PASSPHRASE: 'Tr0ub4dor&3' });
    expect(message).toMatch(/^worker\.toml: /);
    for (const text of expected()) expect(message).toContain(text);
    expect(message).not.toContain(PASSPHRASE);
  });

  it('accepts the key when it decrypts and public_keys holds its public key (among others)', async () => {
    const key = await workerSigningKey(
      config(table(ours.key, [other.pub, ours.pub])),
      { info: () => undefined },
      {
        SIGSTORE_PASSPHRASE: PASSPHRASE,
      },
    );
    expect(key).toMatchObject({ privateKey: ours.key, ownPublicKey: ours.pub, publicKeys: [other.pub, ours.pub] });
  });

  it('`compose-publisher worker` with a wrong passphrase exits 2 before it starts anything', async () => {
    const configFile = writeHarnessConfig(dir, {
      taskQueue: uniqueTaskQueue('signing-start'),
      registryNamespace: 'signing-start',
      extra: `\n[publish]\nwork_dir = "${join(dir, 'work')}"\n\n${table(ours.key, [ours.pub])}`,
    });
    const result = await execa('node', [CLI, '--config', configFile, 'worker'], {
      reject: false,
      stdin: 'ignore',
      env: { COMPOSE_PUBLISHER_CONFIG: undefined, SIGSTORE_PASSPHRASE: 'not the passphrase' },
      timeout: 60_000,
    });
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`[signing] private_key = "${ours.key}" does not decrypt`);
    expect(result.stderr).not.toContain('worker polling');
    expect(result.stderr).not.toContain('not the passphrase');
  });
});
