import type { RegistryAccess } from './registry-access.js';
import { registryRequest, type RegistryAnswer, type RegistryEndpoint, type RegistryRequest } from './registry-http.js';
import {
  configDigestOf,
  describeRemoteManifest,
  MANIFEST_MEDIA_TYPES,
  manifestDigest,
  OCI_INDEX,
  type RemoteManifest,
} from './remote-manifest.js';
import { ToolError } from './tool-error.js';

/**
 * The registry reads and manifest writes of a run, over the registry API (src/tools/registry-http.ts): the same
 * answers skopeo gives (`skopeo inspect --raw`, `--config`, `list-tags`, a manifest-only `copy`), without a process
 * per request. References are spelled as for skopeo: `<host>/<repository>:<tag>` or `…@sha256:<hex>`.
 */

export interface RequestOptions {
  signal?: AbortSignal;
}

/** The distribution registry refuses manifests over 4 MiB; nothing larger is read. */
const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_CONFIG_BYTES = 4 << 20;
const MAX_TAG_LIST_BYTES = 16 << 20;
const TAGS_PER_PAGE = 1000;

interface ParsedReference {
  host: string;
  repository: string;
  /** A tag or a digest. */
  reference: string;
}

export function parseReference(reference: string): ParsedReference {
  const slash = reference.indexOf('/');
  const at = reference.indexOf('@');
  const colon = reference.lastIndexOf(':');
  const split = at > slash ? at : colon > slash ? colon : -1;
  if (slash <= 0 || split < 0)
    throw new ToolError('invalid-input', 'registry', reference, 'not a registry reference', undefined);
  const parsed = {
    host: reference.slice(0, slash),
    repository: reference.slice(slash + 1, split),
    reference: reference.slice(split + 1),
  };
  // They become a URL's path: only the distribution spec's grammar, never "..", "?" or "%2F".
  if (!REPOSITORY_NAME.test(parsed.repository) || !(TAG.test(parsed.reference) || DIGEST.test(parsed.reference)))
    throw new ToolError(
      'invalid-input',
      'registry',
      reference.slice(0, 300),
      'not a repository name and tag or digest of the distribution spec',
      undefined,
    );
  return parsed;
}

const REPOSITORY_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function endpointOf(host: string, access: RegistryAccess): RegistryEndpoint {
  return {
    host,
    tlsVerify: access.tlsVerify,
    ...(access.certDir ? { certDir: access.certDir } : {}),
    ...(access.credentials ? { credentials: access.credentials } : {}),
    ...(access.proxies ? { proxies: access.proxies } : {}),
  };
}

/** The manifest at a reference, byte for byte, with the media type it was served as; a not-found ToolError when absent. */
export async function readManifest(
  reference: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<{ raw: string; mediaType: string; digest: string }> {
  const parsed = parseReference(reference);
  const answer = await registryRequest(endpointOf(parsed.host, access), {
    method: 'GET',
    path: `/v2/${parsed.repository}/manifests/${parsed.reference}`,
    access: 'pull',
    repository: parsed.repository,
    headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') },
    maxBytes: MAX_MANIFEST_BYTES,
    ...options,
  });
  const raw = answer.body.toString('utf8');
  const digest = manifestDigest(raw);
  // Asked by digest, the registry must serve exactly those bytes.
  if (parsed.reference.startsWith('sha256:') && digest !== parsed.reference)
    throw new ToolError(
      'unknown',
      'registry',
      `GET ${reference}`,
      `the registry served a manifest whose digest is ${digest}`,
      undefined,
    );
  const served = answer.headers['content-type']?.split(';')[0]?.trim();
  const declared = (JSON.parse(raw) as { mediaType?: unknown }).mediaType;
  return { raw, digest, mediaType: typeof declared === 'string' ? declared : (served ?? 'unknown') };
}

/** The manifest's text (as `skopeo inspect --raw`). */
export async function readRemoteManifest(
  reference: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<string> {
  return (await readManifest(reference, access, options)).raw;
}

/** The digest a reference has in its registry, or null when the tag or digest is not there. */
export async function remoteDigest(
  reference: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<string | null> {
  try {
    return (await readManifest(reference, access, options)).digest;
  } catch (error) {
    if (error instanceof ToolError && error.kind === 'not-found') return null;
    throw error;
  }
}

/** What the registry holds at a reference: an index with its instances, an image with its platform, or nothing. */
export async function inspectManifest(
  reference: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<RemoteManifest> {
  let raw: string;
  try {
    raw = (await readManifest(reference, access, options)).raw;
  } catch (error) {
    if (error instanceof ToolError && error.kind === 'not-found') return { kind: 'absent' };
    throw error;
  }
  return describeRemoteManifest(raw, () => readConfigOf(reference, raw, access, options));
}

/** The image config of the single-arch image at a reference, as JSON text (as `skopeo inspect --config --raw`). */
export async function readRemoteConfig(
  reference: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<string> {
  return readConfigOf(reference, await readRemoteManifest(reference, access, options), access, options);
}

async function readConfigOf(
  reference: string,
  rawManifest: string,
  access: RegistryAccess,
  options: RequestOptions,
): Promise<string> {
  const parsed = parseReference(reference);
  const digest = configDigestOf(rawManifest);
  const answer = await registryRequest(endpointOf(parsed.host, access), {
    method: 'GET',
    path: `/v2/${parsed.repository}/blobs/${digest}`,
    access: 'pull',
    repository: parsed.repository,
    maxBytes: MAX_CONFIG_BYTES,
    ...options,
  });
  const config = answer.body.toString('utf8');
  if (manifestDigest(config) !== digest)
    throw new ToolError(
      'unknown',
      'registry',
      `GET ${reference} config`,
      `the registry served a config blob that is not ${digest}`,
      undefined,
    );
  return config;
}

/**
 * The tags of `repository` (`<host>/<name>`), every page of them. null when the registry answers 404 (the
 * distribution registry's NAME_UNKNOWN: a repository with no tag yet, or none at all).
 */
export async function listTags(
  repository: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<string[] | null> {
  const { host, repository: name } = parseReference(`${repository}:list`);
  const endpoint = endpointOf(host, access);
  const tags: string[] = [];
  let path: string | undefined = `/v2/${name}/tags/list?n=${TAGS_PER_PAGE}`;
  while (path) {
    const answer = await registryRequest(
      endpoint,
      { method: 'GET', path, access: 'pull', repository: name, maxBytes: MAX_TAG_LIST_BYTES, ...options },
      [200, 404],
    );
    if (answer.status === 404) return tags.length > 0 ? tags : null;
    const page = JSON.parse(answer.body.toString('utf8')) as { tags?: unknown };
    if (page.tags !== null && page.tags !== undefined) {
      if (!Array.isArray(page.tags) || page.tags.some((tag) => typeof tag !== 'string'))
        throw new ToolError(
          'unknown',
          'registry',
          `GET ${repository} tags`,
          'the tag list is not a list of strings',
          undefined,
        );
      tags.push(...(page.tags as string[]));
    }
    path = nextPage(answer.headers.link, path);
  }
  return tags;
}

/** The next page of a tag list from its `Link: </v2/…?last=…&n=…>; rel="next"` header, on the same registry only. */
function nextPage(link: string | string[] | undefined, current: string): string | undefined {
  const header = Array.isArray(link) ? link[0] : link;
  const target = header && /<([^>]+)>\s*;\s*rel="?next"?/.exec(header)?.[1];
  if (!target) return undefined;
  const url = new URL(target, 'http://registry.invalid');
  if (url.host !== 'registry.invalid' || !url.pathname.startsWith('/v2/')) return undefined;
  const next = `${url.pathname}${url.search}`;
  return next === current ? undefined : next;
}

/** Writes a manifest to `<host>/<repository>:<tag>`; returns the digest the registry stored it as. */
export async function putManifest(
  destination: string,
  raw: string,
  mediaType: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<string> {
  const parsed = parseReference(destination);
  const answer = await registryRequest(endpointOf(parsed.host, access), {
    method: 'PUT',
    path: `/v2/${parsed.repository}/manifests/${parsed.reference}`,
    access: 'pull,push',
    repository: parsed.repository,
    headers: { 'content-type': mediaType },
    body: Buffer.from(raw, 'utf8'),
    maxBytes: 1 << 20,
    ...options,
  });
  const stored = answer.headers['docker-content-digest'];
  return typeof stored === 'string' && stored ? stored : manifestDigest(raw);
}

/**
 * Points `tag` at the manifest `digest` already in the same repository: reads it and writes the same bytes under the
 * tag (what `skopeo copy` between two references of one registry does). Returns the digest the tag now has.
 */
export async function tagManifest(
  repository: string,
  digest: string,
  tag: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<string> {
  const manifest = await readManifest(`${repository}@${digest}`, access, options);
  return putManifest(`${repository}:${tag}`, manifest.raw, manifest.mediaType, access, options);
}

/** Writes an OCI image index (its JSON text) to `<host>/<repository>:<tag>`: the registry must have its instances. */
export function putIndex(
  destination: string,
  index: string,
  access: RegistryAccess,
  options: RequestOptions = {},
): Promise<string> {
  return putManifest(destination, index, OCI_INDEX, access, options);
}

/** An image to upload: its manifest (bytes, media type, digest) and the files of the blobs it names. */
export interface ImageUpload {
  digest: string;
  manifest: string;
  mediaType: string;
  blobs: Array<{ digest: string; size: number; path: string }>;
}

const MAX_UPLOAD_ANSWER_BYTES = 64 << 10;

/**
 * Uploads an image to `<host>/<repository>` under `reference` (its digest, or a tag): each blob the registry does
 * not have yet (a HEAD asks) is sent as it is from its file (POST, PATCH with the bytes, PUT with the digest), then
 * the manifest. The blobs were verified when the image was unpacked: nothing is hashed again here.
 * Returns the digest the registry stored the manifest as.
 */
export async function pushImage(
  repository: string,
  reference: string,
  image: ImageUpload,
  access: RegistryAccess,
  options: RequestOptions & { onBlob?: (digest: string, sent: boolean) => void } = {},
): Promise<string> {
  const { host, repository: name } = parseReference(`${repository}@${image.digest}`);
  const endpoint = endpointOf(host, access);
  const push = {
    access: 'pull,push' as const,
    repository: name,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  for (const blob of image.blobs) {
    const present = await registryRequest(
      endpoint,
      { ...push, method: 'HEAD', path: `/v2/${name}/blobs/${blob.digest}`, maxBytes: 0 },
      [200, 404],
    );
    if (present.status === 200) {
      options.onBlob?.(blob.digest, false);
      continue;
    }
    const started = await registryRequest(
      endpoint,
      { ...push, method: 'POST', path: `/v2/${name}/blobs/uploads/`, maxBytes: MAX_UPLOAD_ANSWER_BYTES },
      [202],
    );
    // As containers/image sends a blob (the form every registry takes): the bytes in one PATCH, then a PUT that
    // names their digest.
    const upload = uploadLocation(started.headers.location, host, repository);
    const patched = await uploadRequest(
      endpoint,
      {
        ...push,
        method: 'PATCH',
        path: `${upload.pathname}${upload.search}`,
        headers: { 'content-type': 'application/octet-stream' },
        bodyFile: { path: blob.path, size: blob.size },
        maxBytes: MAX_UPLOAD_ANSWER_BYTES,
      },
      [202],
    );
    const finish = uploadLocation(patched.headers.location, host, repository);
    finish.searchParams.set('digest', blob.digest);
    await uploadRequest(
      endpoint,
      { ...push, method: 'PUT', path: `${finish.pathname}${finish.search}`, maxBytes: MAX_UPLOAD_ANSWER_BYTES },
      [201],
    );
    options.onBlob?.(blob.digest, true);
  }
  const separator = reference.startsWith('sha256:') ? '@' : ':';
  return putManifest(`${repository}${separator}${reference}`, image.manifest, image.mediaType, access, options);
}

/**
 * A request to an upload the registry opened. A 404 there means the registry lost the upload (it restarted, or
 * another replica answered), not that the repository is gone: a retry opens a new one.
 */
async function uploadRequest(
  endpoint: RegistryEndpoint,
  request: RegistryRequest,
  expect: number[],
): Promise<RegistryAnswer> {
  try {
    return await registryRequest(endpoint, request, expect);
  } catch (error) {
    if (!(error instanceof ToolError) || error.kind !== 'not-found') throw error;
    throw new ToolError(
      'transient',
      error.tool,
      error.command,
      `the registry lost the upload: ${error.stderr}`,
      undefined,
    );
  }
}

/** Where the registry said to send a blob: on the registry itself, under /v2/ (a registry is not trusted to say more). */
function uploadLocation(location: string | undefined, host: string, repository: string): URL {
  const url = location ? new URL(location, `http://${host}`) : undefined;
  if (!url || url.host !== host || !url.pathname.startsWith('/v2/'))
    throw new ToolError(
      'unknown',
      'registry',
      `POST ${repository} blob upload`,
      `the registry named ${JSON.stringify(String(location).slice(0, 200))} as the upload's location, not a path of its own`,
      undefined,
    );
  return url;
}
