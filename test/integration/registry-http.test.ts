// The worker's own registry requests (src/tools/registry-api.ts) against the real distribution registry set up as
// public registries are: bearer tokens from a token service (as quay.io and Docker Hub), HTTPS with a CA of the
// worker's cert_dir; and against a registry that answers as no honest one does. skopeo, the users' own client, checks
// what was written.
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeIndex, describeInstance } from '../../src/domain/compose-index.js';
import { layoutImage, type LayoutImage } from '../../src/compose/oci-layout.js';
import { freePort } from '../../src/dev/free-port.js';
import { startRegistry, type RegistryServer } from '../../src/dev/registry-server.js';
import { withRegistryAccess } from '../../src/activities/registry-credentials.js';
import type { PublishSettings } from '../../src/domain/settings.js';
import type { RegistryAccess } from '../../src/tools/registry-access.js';
import {
  inspectManifest,
  listTags,
  pushImage,
  putIndex,
  readRemoteManifest,
  remoteDigest,
  tagManifest,
} from '../../src/tools/registry-api.js';
import { manifestDigest } from '../../src/tools/remote-manifest.js';
import { copyToRegistry, inspectRemote } from '../../src/tools/skopeo.js';
import { ToolError } from '../../src/tools/tool-error.js';
import { makeCertificates, type TestCertificates } from '../support/certificates.js';
import { makeCompose } from '../support/compose-factory.js';
import { scratchSubdir } from '../support/temporal.js';
import { PROXIED_DOMAIN, startForwardProxy } from '../support/forward-proxy.js';
import { startTokenService } from '../support/token-service.js';

const USER = 'releng';
const PASSWORD = 'token-service-secret';

let dir: string;
let archive: string;
let certificates: TestCertificates;
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  dir = scratchSubdir('registry-http');
  certificates = await makeCertificates(dir);
  const compose = await makeCompose(
    { composeId: 'Fedora-40-20241204.n.0', images: { Container_Base: ['x86_64'] }, format: '1.2' },
    { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
  );
  archive = join(dir, 'x86_64.oci.tar');
  await execa('xz', ['--decompress', '--stdout', compose.images[0]!.path], { stdout: { file: archive } });
});
afterAll(async () => {
  for (const stop of stops.reverse()) await stop();
});

/** The test image unpacked into its own OCI layout under `name`, as prepareImage leaves it for an upload. */
async function unpackedImage(name: string): Promise<LayoutImage> {
  const layoutDir = join(dir, name);
  mkdirSync(layoutDir, { recursive: true });
  await execa('tar', ['--extract', '--file', archive, '--directory', layoutDir]);
  return layoutImage(layoutDir, {
    composeArch: 'x86_64',
    ociArch: 'amd64',
    location: archive,
    fileName: 'x86_64.oci.tar',
    sha256: '0'.repeat(64),
  });
}

const failureOf = (promise: Promise<unknown>) =>
  promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (error: unknown) => error as ToolError,
  );

describe('a registry with bearer-token authentication', () => {
  let registry: RegistryServer;
  let tokens: Awaited<ReturnType<typeof startTokenService>>;
  let access: RegistryAccess;
  let digest: string;

  beforeAll(async () => {
    const token = { issuer: 'test-token-issuer', service: 'test-registry' };
    tokens = await startTokenService({
      certificate: certificates.caCert,
      key: certificates.caCert.replace(/\.pem$/, '.key'),
      ...token,
      user: USER,
      password: PASSWORD,
    });
    stops.push(tokens.close);
    registry = await startRegistry({
      dataDir: join(dir, 'token-registry'),
      token: { realm: tokens.realm, ...token, rootCertBundle: certificates.caCert },
    });
    stops.push(registry.stop);
    const authfile = join(dir, 'token-auth.json');
    const auth = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
    writeFileSync(authfile, JSON.stringify({ auths: { [registry.host]: { auth } } }), { mode: 0o600 });
    // skopeo, the users' own client, gets its token the same way and pushes the image.
    digest = await copyToRegistry(
      `oci-archive:${archive}`,
      `${registry.host}/fedora/fedora:40-x86_64`,
      { tlsVerify: false, authfile },
      join(dir, 'token-digest'),
    );
    access = { tlsVerify: false, credentials: { user: USER, password: PASSWORD } };
  });

  it('reads and writes with a token for the scope of each request', async () => {
    const where = `${registry.host}/fedora/fedora`;
    expect(await listTags(where, access)).toEqual(['40-x86_64']);
    expect(await inspectManifest(`${where}:40-x86_64`, access)).toMatchObject({ kind: 'image', digest });
    expect(await tagManifest(where, digest, '40-copy', access)).toBe(digest);
    const index = composeIndex([
      describeInstance({
        digest,
        rawManifest: await readRemoteManifest(`${where}@${digest}`, access),
        platform: { architecture: 'amd64', os: 'linux' },
      }),
    ]);
    expect(await putIndex(`${where}:40`, index, access)).toBe(manifestDigest(index));

    const authfile = join(dir, 'token-auth.json');
    expect(await inspectRemote(`${where}:40-copy`, { tlsVerify: false, authfile })).toMatchObject({ digest });
    expect(await inspectRemote(`${where}:40`, { tlsVerify: false, authfile })).toMatchObject({
      kind: 'index',
      digest: manifestDigest(index),
    });
    const scopes = tokens.requests.filter((request) => request.authorized).map((request) => request.scope);
    expect(scopes).toContain('repository:fedora/fedora:pull');
    expect(scopes).toContain('repository:fedora/fedora:pull,push');
    expect(tokens.requests.every((request) => request.service === 'test-registry')).toBe(true);
  });

  it('uploads an image from a layout with a push token, and skopeo pulls it by digest', async () => {
    const image = await unpackedImage('token-layout');
    const sent: boolean[] = [];
    const where = `${registry.host}/fedora/fedora-minimal`;
    const onBlob = (_: string, wasSent: boolean) => sent.push(wasSent);
    expect(await pushImage(where, image.digest, image, access, { onBlob })).toBe(image.digest);
    expect(sent).toEqual(image.blobs.map(() => true));
    // Again: every blob is there (a HEAD each), only the manifest is written.
    expect(await pushImage(where, image.digest, image, access, { onBlob })).toBe(image.digest);
    expect(sent.slice(image.blobs.length)).toEqual(image.blobs.map(() => false));
    const authfile = join(dir, 'token-auth.json');
    await execa('skopeo', [
      'copy',
      '--src-tls-verify=false',
      '--src-authfile',
      authfile,
      `docker://${where}@${image.digest}`,
      `oci:${join(dir, 'token-pulled')}:x`,
    ]);
    expect(await inspectRemote(`${where}@${image.digest}`, { tlsVerify: false, authfile })).toMatchObject({
      kind: 'image',
      digest: image.digest,
    });
  });

  it('fails as unauthorized, not as absent, with a wrong password or none', async () => {
    const where = `${registry.host}/fedora/fedora`;
    for (const credentials of [{ user: USER, password: 'wrong' }, undefined]) {
      const denied: RegistryAccess = { tlsVerify: false, ...(credentials ? { credentials } : {}) };
      const failure = await failureOf(remoteDigest(`${where}:40-x86_64`, denied));
      expect(failure).toBeInstanceOf(ToolError);
      expect(failure.kind).toBe('unauthorized');
      expect(failure.message).toContain(`${registry.host}/v2/fedora/fedora/manifests/40-x86_64`);
      expect(failure.message).not.toContain(PASSWORD);
    }
  });
});

describe('a registry on HTTPS', () => {
  let registry: RegistryServer;
  let digest: string;

  beforeAll(async () => {
    registry = await startRegistry({
      dataDir: join(dir, 'tls-registry'),
      tls: { certificate: certificates.server.cert, key: certificates.server.key },
    });
    stops.push(registry.stop);
    digest = await copyToRegistry(
      `oci-archive:${archive}`,
      `${registry.host}/fedora/fedora:40-x86_64`,
      { tlsVerify: false },
      join(dir, 'tls-digest'),
    );
  });

  it('trusts the CA of cert_dir (its *.crt), and refuses the certificate without it', async () => {
    const certDir = join(dir, 'cert-dir');
    mkdirSync(certDir, { recursive: true });
    copyFileSync(certificates.caCert, join(certDir, 'test-ca.crt'));
    const reference = `${registry.host}/fedora/fedora:40-x86_64`;
    expect(await remoteDigest(reference, { tlsVerify: true, certDir })).toBe(digest);

    const failure = await failureOf(remoteDigest(reference, { tlsVerify: true }));
    expect(failure).toBeInstanceOf(ToolError);
    expect(failure.kind).toBe('invalid-input');
    expect(failure.message).toMatch(/certificate/i);
  });

  it('with tls_verify = false, speaks HTTPS without checking the certificate', async () => {
    expect(await remoteDigest(`${registry.host}/fedora/fedora:40-x86_64`, { tlsVerify: false })).toBe(digest);
  });
});

describe('a registry behind an HTTP proxy (HTTPS_PROXY, HTTP_PROXY, NO_PROXY of the worker)', () => {
  let registry: RegistryServer;
  let pushed: LayoutImage;
  // A name only the proxy resolves: what reaches the registry by it went through the proxy.
  const where = () => `registry.${PROXIED_DOMAIN}:${registry.host.split(':')[1]}`;

  beforeAll(async () => {
    registry = await startRegistry({ dataDir: join(dir, 'proxied-registry') });
    stops.push(() => registry.stop());
    pushed = await unpackedImage('proxied-layout');
  });

  it('pushes an image and reads it back through the proxy, as skopeo would: a tunnel tried for HTTPS, then plain HTTP', async () => {
    // Tunnels refused (only port 443 allowed), as many proxies do: tls_verify = false falls back to plain HTTP.
    const proxy = await startForwardProxy({ refuseTunnels: true });
    stops.push(() => proxy.close());
    const access: RegistryAccess = { tlsVerify: false, proxies: { http: proxy.url, https: proxy.url } };
    const repository = `${where()}/fedora/fedora`;
    expect(await pushImage(repository, '40-x86_64', pushed, access)).toBe(pushed.digest);
    expect(await remoteDigest(`${repository}:40-x86_64`, access)).toBe(pushed.digest);
    expect(proxy.handled[0]).toBe(`CONNECT ${where()}`);
    expect(proxy.handled).toContain(`POST http://${where()}/v2/fedora/fedora/blobs/uploads/`);
    expect(proxy.handled).toContain(`PUT http://${where()}/v2/fedora/fedora/manifests/40-x86_64`);
    // The registry itself has it, as users' skopeo sees it directly.
    expect(await inspectRemote(`${registry.host}/fedora/fedora:40-x86_64`, { tlsVerify: false })).toMatchObject({
      kind: 'image',
      digest: pushed.digest,
    });
  });

  it('asks the proxy with the credentials of its URL, and says how to give them when it wants some', async () => {
    const proxy = await startForwardProxy({ credentials: { user: 'worker', password: 'proxy-secret' } });
    stops.push(() => proxy.close());
    const bare: RegistryAccess = { tlsVerify: true, proxies: { https: proxy.url } };
    const denied = await failureOf(remoteDigest(`${where()}/fedora/fedora:40-x86_64`, bare));
    expect(denied.kind).toBe('unauthorized');
    expect(denied.message).toContain('http://user:password@host:port');
    const withCredentials = proxy.url.replace('http://', 'http://worker:proxy-secret@');
    const plain: RegistryAccess = { tlsVerify: false, proxies: { http: withCredentials, https: withCredentials } };
    expect(await remoteDigest(`${where()}/fedora/fedora:40-x86_64`, plain)).toBe(pushed.digest);
    expect(proxy.handled).toContain(`GET http://${where()}/v2/fedora/fedora/manifests/40-x86_64`);
  });

  it('goes direct to what NO_PROXY names, and to loopback addresses', async () => {
    const proxy = await startForwardProxy();
    stops.push(() => proxy.close());
    const proxies = { http: proxy.url, https: proxy.url, noProxy: `example.org, .${PROXIED_DOMAIN}` };
    // Direct, the name does not resolve: the request never reached the proxy.
    const direct = await failureOf(remoteDigest(`${where()}/fedora/fedora:40-x86_64`, { tlsVerify: false, proxies }));
    expect(direct.message).toMatch(/ENOTFOUND|EAI_AGAIN/);
    expect(await remoteDigest(`${registry.host}/fedora/fedora:40-x86_64`, { tlsVerify: false, proxies })).toBe(
      pushed.digest,
    );
    expect(proxy.handled).toEqual([]);
  });

  it("takes the proxy from the worker's environment for a registry of its config", async () => {
    const proxy = await startForwardProxy();
    stops.push(() => proxy.close());
    const settings: PublishSettings = {
      registries: [{ url: `${where()}/fedora`, tlsVerify: false }],
      repositories: { Container_Base: 'fedora' },
      architectures: { x86_64: 'amd64' },
      releases: { latest: '40' },
      waitForOverride: '3s',
      maxParallelPushes: 2,
    };
    const environment = { settings, env: { https_proxy: proxy.url, HTTP_PROXY: proxy.url }, scratchDir: dir };
    const digest = await withRegistryAccess(`${where()}/fedora`, environment, (access) =>
      remoteDigest(`${where()}/fedora/fedora:40-x86_64`, access),
    );
    expect(digest).toBe(pushed.digest);
    expect(proxy.handled).toContain(`GET http://${where()}/v2/fedora/fedora/manifests/40-x86_64`);
  });

  it('refuses a proxy it cannot speak to, naming the variable', async () => {
    const access: RegistryAccess = { tlsVerify: true, proxies: { https: 'socks5://127.0.0.1:1080' } };
    const failure = await failureOf(remoteDigest(`${where()}/fedora/fedora:40`, access));
    expect(failure.kind).toBe('invalid-input');
    expect(failure.message).toContain('HTTPS_PROXY');
  });
});

describe('a registry that answers as no honest one does', () => {
  let server: Server;
  let host: string;
  const seen: Array<{ path: string; authorization: string | undefined }> = [];
  const big = JSON.stringify({ schemaVersion: 2, padding: 'x'.repeat(5 << 20) });
  const honest = JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [],
  });

  beforeAll(async () => {
    server = createServer((incoming, outgoing) => {
      const path = incoming.url ?? '/';
      seen.push({ path, authorization: incoming.headers.authorization });
      if (path === '/v2/') return void outgoing.writeHead(200).end();
      if (incoming.headers.authorization === undefined && path.startsWith('/v2/private/')) {
        outgoing.writeHead(401, { 'www-authenticate': 'Basic realm="test"' });
        return void outgoing.end();
      }
      if (path.endsWith('/manifests/huge')) return void outgoing.writeHead(200).end(big);
      if (path.includes('/manifests/sha256:')) return void outgoing.writeHead(200).end(honest);
      if (path.endsWith('/manifests/elsewhere'))
        return void outgoing.writeHead(307, { location: `http://localhost:${port()}/v2/other/manifests/x` }).end();
      if (path.endsWith('/manifests/x')) return void outgoing.writeHead(200).end(honest);
      if (path.startsWith('/v2/upload/blobs/uploads/'))
        return void outgoing.writeHead(202, { location: 'http://attacker.invalid/v2/upload/blobs/uploads/1' }).end();
      if (path === '/v2/lost/blobs/uploads/')
        return void outgoing.writeHead(202, { location: '/v2/lost/blobs/uploads/1' }).end();
      if (path.startsWith('/v2/lost/blobs/uploads/1'))
        return void outgoing
          .writeHead(404)
          .end(JSON.stringify({ errors: [{ code: 'BLOB_UPLOAD_UNKNOWN', message: 'blob upload unknown' }] }));
      if (path.startsWith('/v2/paged/tags/list')) {
        outgoing.writeHead(200, { link: '<http://attacker.invalid/v2/paged/tags/list?last=a>; rel="next"' });
        return void outgoing.end(JSON.stringify({ name: 'paged', tags: ['a'] }));
      }
      outgoing
        .writeHead(404)
        .end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${port()}`;
    stops.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  });
  const port = () => (server.address() as AddressInfo).port;
  const access: RegistryAccess = { tlsVerify: false, credentials: { user: USER, password: PASSWORD } };
  /** An image of one 5-byte blob whose digest (made of `digit`) the registry under test never checks. */
  const oneBlobImage = (digit: string) => {
    const path = join(dir, 'blob');
    writeFileSync(path, 'layer');
    const digest = `sha256:${digit.repeat(64)}`;
    return { digest, manifest: honest, mediaType: 'x', blobs: [{ digest, size: 5, path }] };
  };

  it('refuses a manifest larger than a registry may hold, without reading it all', async () => {
    const failure = await failureOf(remoteDigest(`${host}/private/fedora:huge`, access));
    expect(failure.kind).toBe('invalid-input');
    expect(failure.message).toMatch(/larger than 4194304 bytes/);
  });

  it('refuses a manifest asked for by digest that has another digest', async () => {
    const asked = `sha256:${'0'.repeat(64)}`;
    const failure = await failureOf(readRemoteManifest(`${host}/private/fedora@${asked}`, access));
    expect(failure.message).toContain(`whose digest is ${manifestDigest(honest)}`);
  });

  it('sends no credentials where a redirect leads to another host', async () => {
    seen.length = 0;
    expect(await remoteDigest(`${host}/private/fedora:elsewhere`, access)).toBe(manifestDigest(honest));
    const redirected = seen.find((request) => request.path === '/v2/other/manifests/x');
    expect(redirected).toEqual({ path: '/v2/other/manifests/x', authorization: undefined });
    expect(seen.some((request) => request.authorization?.startsWith('Basic '))).toBe(true);
  });

  it('reports a registry that is not there as a transient failure naming it', async () => {
    const nowhere = `127.0.0.1:${await freePort()}`;
    const failure = await failureOf(remoteDigest(`${nowhere}/fedora:40`, access));
    expect(failure).toBeInstanceOf(ToolError);
    expect(failure.kind).toBe('transient');
    expect(failure.message).toContain(nowhere);
    expect(failure.message).toContain('ECONNREFUSED');
  });

  it('sends no blob to an upload location the registry names elsewhere', async () => {
    seen.length = 0;
    const image = oneBlobImage('1');
    const digest = image.digest;
    const failure = await failureOf(pushImage(`${host}/upload`, digest, image, access));
    expect(failure.message).toContain('attacker.invalid');
    expect(seen.map((request) => request.path)).toEqual([`/v2/upload/blobs/${digest}`, '/v2/upload/blobs/uploads/']);
  });

  it('retries an upload the registry lost (it restarted between the POST and the bytes), as it would a 5xx', async () => {
    const image = oneBlobImage('2');
    const failure = await failureOf(pushImage(`${host}/lost`, image.digest, image, access));
    expect(failure.kind).toBe('transient');
    expect(failure.message).toMatch(/lost the upload: HTTP 404: BLOB_UPLOAD_UNKNOWN/);
  });

  it('follows tag-list pages only on the registry itself', async () => {
    seen.length = 0;
    expect(await listTags(`${host}/paged`, access)).toEqual(['a']);
    expect(seen.map((request) => request.path)).toEqual(['/v2/paged/tags/list?n=1000']);
  });
});
