import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localOciLayout } from '../../src/compose/image-cache.js';
import { layoutManifestDigest, layoutPlatform } from '../../src/compose/oci-layout.js';
import { DomainError } from '../../src/domain/errors.js';
import { freePort } from '../../src/dev/free-port.js';
import type { ImageArtifact } from '../../src/domain/types.js';
import { makeCompose, serveCompose, type MadeImage } from '../support/compose-factory.js';
import { PROXIED_DOMAIN, startForwardProxy } from '../support/forward-proxy.js';
import { scratchSubdir } from '../support/temporal.js';

describe('the image cache of prepareImage and uploadArchImage', () => {
  let dir: string;
  let made: MadeImage;
  let server: Awaited<ReturnType<typeof serveCompose>>;
  let root: string;

  beforeAll(async () => {
    dir = scratchSubdir('image-cache');
    const compose = await makeCompose(
      { composeId: 'Fedora-40-20241201.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
      { dir, storage: { root: join(dir, 's'), runroot: join(dir, 'r') } },
    );
    made = compose.images[0]!;
    root = compose.root;
    server = await serveCompose(compose.root);
  });
  afterAll(async () => {
    await server?.close();
  });

  const artifact = (overrides: Partial<ImageArtifact> = {}): ImageArtifact => ({
    composeArch: made.composeArch,
    ociArch: made.ociArch,
    location: `${server.url}${made.path.slice(root.length + 1)}`,
    fileName: made.fileName,
    size: made.size,
    sha256: made.sha256,
    ...overrides,
  });
  it('reads the platform of the image config from the layout, as skopeo reads it (what the index lists)', async () => {
    const layout = await localOciLayout(artifact(), scratchSubdir('cache'), () => {});
    const { stdout } = await execa('skopeo', ['inspect', '--config', '--raw', `oci:${layout}`]);
    const config = JSON.parse(stdout) as { architecture: string; os: string; variant?: string };
    expect(layoutPlatform(layout, artifact())).toEqual({
      architecture: config.architecture,
      os: config.os,
      ...(config.variant ? { variant: config.variant } : {}),
    });
    expect(layoutPlatform(layout, artifact()).architecture).toBe(made.ociArch);
    // A config blob that is not an image's (here: far too large) is refused, naming the image, not read whole.
    const manifest = JSON.parse(
      readFileSync(
        join(layout, 'blobs', 'sha256', layoutManifestDigest(layout, artifact()).slice('sha256:'.length)),
        'utf8',
      ),
    ) as { config: { digest: string } };
    const configBlob = join(layout, 'blobs', 'sha256', manifest.config.digest.slice('sha256:'.length));
    writeFileSync(configBlob, Buffer.alloc(5 * 1024 * 1024, 0x20));
    expect(() => layoutPlatform(layout, artifact())).toThrow(/its image config sha256:[0-9a-f]{64} has 5242880 bytes/);
  });

  const downloads = () =>
    server.requests.filter((request) => request.startsWith('GET ') && request.endsWith('.tar.xz')).length;

  it('downloads once, verifies, decompresses, and serves later calls from the cache; a missing cache is fetched again', async () => {
    const cacheDir = scratchSubdir('cache');
    const first = await localOciLayout(artifact(), cacheDir, () => {});
    expect(first).toBe(join(cacheDir, `${made.sha256}.oci`));
    expect(layoutManifestDigest(first, artifact())).toMatch(/^sha256:[0-9a-f]{64}$/);
    const before = downloads();
    await localOciLayout(artifact(), cacheDir, () => {});
    expect(downloads()).toBe(before);
    rmSync(first, { recursive: true });
    await localOciLayout(artifact(), cacheDir, () => {});
    expect(downloads()).toBe(before + 1);
  });

  it("downloads through the process's HTTP_PROXY (a name only the proxy resolves), and goes direct to NO_PROXY", async () => {
    const proxy = await startForwardProxy();
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY };
    try {
      process.env.HTTP_PROXY = proxy.url;
      const proxied = artifact({ location: artifact().location.replace('127.0.0.1', `compose.${PROXIED_DOMAIN}`) });
      const layout = await localOciLayout(proxied, scratchSubdir('cache'), () => {});
      expect(layoutManifestDigest(layout, proxied)).toBe(layoutManifestDigest(layout, artifact()));
      // undici's ProxyAgent tunnels to http hosts too.
      expect(proxy.handled).toEqual([`CONNECT ${new URL(proxied.location).host}`]);
      process.env.NO_PROXY = PROXIED_DOMAIN;
      const direct = await localOciLayout(proxied, scratchSubdir('cache'), () => {}).catch((error: Error) => error);
      expect((direct as Error).message).toMatch(/ENOTFOUND|EAI_AGAIN/);
      expect(proxy.handled).toHaveLength(1);
    } finally {
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      await proxy.close();
    }
  });

  it('refuses a checksum mismatch and a file shorter than images.json says for good, and retries a download that broke off', async () => {
    const mismatch = await localOciLayout(artifact({ sha256: 'a'.repeat(64) }), scratchSubdir('cache'), () => {}).catch(
      (e: unknown) => e,
    );
    expect(mismatch).toBeInstanceOf(DomainError);
    expect(mismatch).toMatchObject({ name: 'DomainError', type: 'ChecksumMismatch' });
    const short = await localOciLayout(artifact({ size: made.size + 10 }), scratchSubdir('cache'), () => {}).catch(
      (e: unknown) => e,
    );
    expect(short).toMatchObject({ name: 'DomainError', type: 'ChecksumMismatch' });
    expect((short as Error).message).toContain(`has ${made.size} bytes, but images.json says ${made.size + 10}`);

    // A host that promises the whole file and hangs up halfway: worth another try, and the error says where.
    const bytes = readFileSync(made.path);
    const cut = createServer((_request, response) => {
      response.writeHead(200, { 'content-length': bytes.length });
      response.write(bytes.subarray(0, 1000), () => response.destroy());
    });
    await new Promise<void>((resolve) => cut.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(cut.address() as AddressInfo).port}/image.oci.tar.xz`;
    try {
      const brokenOff = await localOciLayout(artifact({ location: url }), scratchSubdir('cache'), () => {}).catch(
        (e: unknown) => e,
      );
      expect(brokenOff).toBeInstanceOf(Error);
      expect(brokenOff).not.toBeInstanceOf(DomainError);
      expect((brokenOff as Error).message).toMatch(
        new RegExp(
          `^${url.replaceAll('.', '\\.')}: the download broke off after \\d+ of ${made.size} bytes .*; will retry$`,
        ),
      );
    } finally {
      cut.closeAllConnections();
      await new Promise((resolve) => cut.close(resolve));
    }
    const closed = `http://127.0.0.1:${await freePort()}/image.oci.tar.xz`;
    const refused = await localOciLayout(artifact({ location: closed }), scratchSubdir('cache'), () => {}).catch(
      (e: unknown) => e,
    );
    expect((refused as Error).message).toMatch(
      new RegExp(`^${closed.replaceAll('.', '\\.')}: .*ECONNREFUSED.*; will retry$`),
    );
  });

  it('checks the compose still has the file, with its size, when the image is cached', async () => {
    const cacheDir = scratchSubdir('cache');
    await localOciLayout(artifact(), cacheDir, () => {});
    const gone = await localOciLayout(artifact({ location: `${server.url}gone.oci.tar.xz` }), cacheDir, () => {}).catch(
      (e: unknown) => e,
    );
    expect(gone).toMatchObject({ name: 'DomainError', type: 'ImageNotFound' });
    const resized = await localOciLayout(artifact({ size: made.size - 1 }), cacheDir, () => {}).catch(
      (e: unknown) => e,
    );
    expect(resized).toMatchObject({ name: 'DomainError', type: 'ChecksumMismatch' });
    const missingLocal = await localOciLayout(
      artifact({ location: join(dir, 'nowhere.oci.tar.xz') }),
      cacheDir,
      () => {},
    ).catch((e: unknown) => e);
    expect(missingLocal).toMatchObject({ name: 'DomainError', type: 'ImageNotFound' });
  });

  /** A local image file with its own size and sha256, as images.json would list it. */
  function localFile(name: string, bytes: Buffer, overrides: Partial<ImageArtifact> = {}): ImageArtifact {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    return artifact({
      location: path,
      fileName: name,
      size: statSync(path).size,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      ...overrides,
    });
  }

  it('reads a gzip-compressed OCI archive (format tar.gz) to the same image as its xz original', async () => {
    const tar = (await execa('xz', ['--decompress', '--stdout', made.path], { encoding: 'buffer' })).stdout;
    const gzipped = (await execa('gzip', ['--stdout'], { input: tar, encoding: 'buffer' })).stdout;
    const fromGzip = await localOciLayout(
      localFile('image.oci.tar.gz', Buffer.from(gzipped), { compression: 'gzip' }),
      scratchSubdir('cache'),
      () => {},
    );
    const fromXz = await localOciLayout(artifact(), scratchSubdir('cache'), () => {});
    expect(layoutManifestDigest(fromGzip, artifact())).toBe(layoutManifestDigest(fromXz, artifact()));
  });

  it('refuses a file whose bytes are not what its format says, naming the entry and what it is', async () => {
    const tar = (await execa('xz', ['--decompress', '--stdout', made.path], { encoding: 'buffer' })).stdout;
    const gzipped = Buffer.from((await execa('gzip', ['--stdout'], { input: tar, encoding: 'buffer' })).stdout);
    const entry = { variant: 'Container', subvariant: 'Container_Base' };
    const failure = await localOciLayout(
      localFile('mislabelled.oci.tar.xz', gzipped, { compression: 'xz', entry }),
      scratchSubdir('cache'),
      () => {},
    ).catch((e: unknown) => e);
    expect(failure).toMatchObject({ name: 'DomainError', type: 'UnsupportedImageArchive' });
    expect((failure as Error).message).toContain(
      `the Container/x86_64 Container_Base image ${join(dir, 'mislabelled.oci.tar.xz')} is not a container image archive`,
    );
    expect((failure as Error).message).toContain(
      'images.json says its format is tar.xz, but the file is gzip-compressed',
    );
    const qcow = Buffer.concat([Buffer.from([0x51, 0x46, 0x49, 0xfb]), Buffer.alloc(1024)]);
    const disk = await localOciLayout(
      localFile('disk.tar.xz', qcow, { compression: 'xz' }),
      scratchSubdir('cache'),
      () => {},
    ).catch((e: unknown) => e);
    expect((disk as Error).message).toContain('the file is a qcow2 disk image');
  });

  it('refuses for good a local file that is missing or whose size differs from images.json, and a corrupt xz', async () => {
    const missing = await localOciLayout(
      artifact({ location: join(dir, 'no-such.oci.tar.xz') }),
      scratchSubdir('cache'),
      () => {},
    ).catch((e: unknown) => e);
    expect(missing).toMatchObject({ name: 'DomainError', type: 'ImageNotFound' });
    const wrongSize = await localOciLayout(
      artifact({ location: made.path, size: made.size - 1 }),
      scratchSubdir('cache'),
      () => {},
    ).catch((e: unknown) => e);
    expect(wrongSize).toMatchObject({ name: 'DomainError', type: 'ChecksumMismatch' });
    expect((wrongSize as Error).message).toContain(`has ${made.size} bytes, but images.json says ${made.size - 1}`);
    const truncated = readFileSync(made.path).subarray(0, Math.floor(made.size / 2));
    const corrupt = await localOciLayout(
      localFile('truncated.oci.tar.xz', truncated),
      scratchSubdir('cache'),
      () => {},
    ).catch((e: unknown) => e);
    expect(corrupt).toMatchObject({ name: 'DomainError', type: 'CorruptImage' });
    expect((corrupt as Error).message).toMatch(
      /cannot be decompressed with xz, though its sha256 matches images\.json: .*unexpected end of input/i,
    );
    expect((corrupt as Error).message.length).toBeLessThan(1000);
  });

  /** An xz-compressed tar of a directory laid out by `build`, as a compose would ship it. */
  async function craftedArchive(name: string, build: (root: string) => void): Promise<ImageArtifact> {
    const root = join(dir, `${name}-root`);
    mkdirSync(join(root, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(root, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    build(root);
    const tar = (await execa('tar', ['--create', '--file', '-', '--directory', root, '.'], { encoding: 'buffer' }))
      .stdout;
    const xz = (await execa('xz', ['--stdout'], { input: tar, encoding: 'buffer' })).stdout;
    return localFile(`${name}.oci.tar.xz`, Buffer.from(xz), {
      entry: { variant: 'Container', subvariant: 'Container_Base' },
    });
  }

  it('refuses an OCI archive that holds a link, something beside its layout, or not exactly one manifest, and leaves no layout behind', async () => {
    const index = (manifests: number) =>
      JSON.stringify({
        schemaVersion: 2,
        manifests: Array.from({ length: manifests }, (_, i) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: `sha256:${String(i).repeat(64)}`,
          size: 1,
        })),
      });
    const cases: Array<[string, (root: string) => void, RegExp]> = [
      [
        'symlink',
        (root) => {
          writeFileSync(join(root, 'index.json'), index(1));
          symlinkSync('/etc/passwd', join(root, 'blobs', 'sha256', '0'.repeat(64)));
        },
        /blobs\/sha256\/0{64} is not a plain file/,
      ],
      [
        'extra',
        (root) => {
          writeFileSync(join(root, 'index.json'), index(1));
          writeFileSync(join(root, 'run.sh'), 'echo hi');
        },
        /it holds "(\.\/)?run\.sh" beside its OCI layout/,
      ],
      [
        'two-manifests',
        (root) => writeFileSync(join(root, 'index.json'), index(2)),
        /its index\.json lists 2 manifests; an image archive holds exactly one/,
      ],
    ];
    for (const [name, build, message] of cases) {
      const image = await craftedArchive(name, build);
      const cacheDir = scratchSubdir('cache');
      const failure = await localOciLayout(image, cacheDir, () => {})
        .then((layout) => layoutManifestDigest(layout, image))
        .catch((e: unknown) => e);
      expect(failure, name).toMatchObject({ name: 'DomainError', type: 'UnsupportedImageArchive' });
      expect((failure as Error).message, name).toMatch(message);
      if (name !== 'two-manifests') expect(readdirSync(cacheDir), name).toEqual([]);
    }
  });
});
