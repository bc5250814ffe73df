import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { accessArgs, type RegistryAccess } from './registry-access.js';
import { runTool, type RunOptions } from './run-tool.js';
import { ToolError } from './tool-error.js';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** One entry of an index as the registry holds it: digest, media type, platform, annotations. */
export interface IndexEntry {
  digest: string;
  mediaType: string;
  architecture: string;
  os: string;
  variant?: string;
  annotations: Record<string, string>;
}

/** What a registry holds at a reference: a multi-arch index, a single-arch image, or nothing. */
export type RemoteManifest =
  | { kind: 'index'; digest: string; mediaType: string; instances: IndexEntry[] }
  | { kind: 'image'; digest: string; mediaType: string; architecture: string; os: string }
  | { kind: 'absent' };

const indexSchema = z.object({
  mediaType: z.string().optional(),
  manifests: z.array(
    z.object({
      digest: z.string(),
      mediaType: z.string(),
      platform: z.object({ architecture: z.string(), os: z.string(), variant: z.string().optional() }).optional(),
      annotations: z.record(z.string(), z.string()).optional(),
    }),
  ),
});
const imageConfigSchema = z.object({ architecture: z.string(), os: z.string() });

/**
 * Reads the manifest at `docker://<reference>`. skopeo asks with every manifest media type in Accept,
 * which the distribution registry needs to answer with an OCI index rather than 404.
 */
export async function inspectRemote(
  reference: string,
  access: RegistryAccess,
  options: RunOptions = {},
): Promise<RemoteManifest> {
  let raw: string;
  try {
    raw = await runTool('skopeo', ['inspect', '--raw', ...accessArgs(access), `docker://${reference}`], options);
  } catch (error) {
    if (error instanceof ToolError && error.kind === 'not-found') return { kind: 'absent' };
    throw error;
  }
  const digest = digestOf(raw);
  const document = JSON.parse(raw) as { mediaType?: string; manifests?: unknown };
  if (Array.isArray(document.manifests)) {
    const index = indexSchema.parse(document);
    return {
      kind: 'index',
      digest,
      mediaType: index.mediaType ?? OCI_INDEX,
      instances: index.manifests.map((m) => ({
        digest: m.digest,
        mediaType: m.mediaType,
        architecture: m.platform?.architecture ?? 'unknown',
        os: m.platform?.os ?? 'unknown',
        ...(m.platform?.variant ? { variant: m.platform.variant } : {}),
        annotations: m.annotations ?? {},
      })),
    };
  }
  const configRaw = await runTool(
    'skopeo',
    ['inspect', '--config', '--raw', ...accessArgs(access), `docker://${reference}`],
    options,
  );
  const config = imageConfigSchema.parse(JSON.parse(configRaw));
  return {
    kind: 'image',
    digest,
    mediaType: document.mediaType ?? 'unknown',
    architecture: config.architecture,
    os: config.os,
  };
}

function digestOf(rawManifest: string): string {
  return `sha256:${createHash('sha256').update(rawManifest, 'utf8').digest('hex')}`;
}

/** The digest `reference` has in its registry, or null when the tag or digest is not there: one `skopeo inspect --raw`. */
export async function remoteDigest(
  reference: string,
  access: RegistryAccess,
  options: RunOptions = {},
): Promise<string | null> {
  try {
    return digestOf(
      await runTool('skopeo', ['inspect', '--raw', ...accessArgs(access), `docker://${reference}`], options),
    );
  } catch (error) {
    if (error instanceof ToolError && error.kind === 'not-found') return null;
    throw error;
  }
}

const tagListSchema = z.object({ Tags: z.array(z.string()).nullable() });

/**
 * The tags of `repository` (`<registry>/<name>`): one `skopeo list-tags`, however many tags are asked about. null when
 * the registry answers 404 (the distribution registry's NAME_UNKNOWN: a repository with no tag yet, or none at all).
 */
export async function listTags(
  repository: string,
  access: RegistryAccess,
  options: RunOptions = {},
): Promise<string[] | null> {
  let listed: string;
  try {
    listed = await runTool('skopeo', ['list-tags', ...accessArgs(access), `docker://${repository}`], options);
  } catch (error) {
    if (error instanceof ToolError && error.kind === 'not-found') return null;
    throw error;
  }
  return tagListSchema.parse(JSON.parse(listed)).Tags ?? [];
}

/**
 * `skopeo copy <source> docker://<destination>`; returns the digest the registry stored. `sourceAccess` is how to
 * reach a source that is itself in a registry (docker://…).
 */
export async function copyToRegistry(
  source: string,
  destination: string,
  access: RegistryAccess,
  digestFile: string,
  options: RunOptions = {},
  sourceAccess?: RegistryAccess,
): Promise<string> {
  await rm(digestFile, { force: true });
  const sourceArgs = sourceAccess ? accessArgs(sourceAccess, 'src-') : [];
  await runTool(
    'skopeo',
    [
      'copy',
      '--digestfile',
      digestFile,
      ...sourceArgs,
      ...accessArgs(access, 'dest-'),
      source,
      `docker://${destination}`,
    ],
    options,
  );
  return (await readFile(digestFile, 'utf8')).trim();
}

/**
 * Points `tag` at the manifest `digest` already in the same repository (`skopeo copy` between two references of
 * one registry: the blobs are there, so only the manifest is written). Returns the digest the tag now has.
 */
export function tagInRegistry(
  repository: string,
  digest: string,
  tag: string,
  access: RegistryAccess,
  digestFile: string,
  options: RunOptions = {},
): Promise<string> {
  return copyToRegistry(
    `docker://${repository}@${digest}`,
    `${repository}:${tag}`,
    access,
    digestFile,
    options,
    access,
  );
}

/** The manifest at `docker://<reference>` byte for byte (a ToolError of kind not-found when it is not there). */
export function readRemoteManifest(
  reference: string,
  access: RegistryAccess,
  options: RunOptions = {},
): Promise<string> {
  return runTool('skopeo', ['inspect', '--raw', ...accessArgs(access), `docker://${reference}`], options);
}

/** The image config of the single-arch image at `docker://<reference>`, as JSON text. */
export function readRemoteConfig(reference: string, access: RegistryAccess, options: RunOptions = {}): Promise<string> {
  return runTool('skopeo', ['inspect', '--config', '--raw', ...accessArgs(access), `docker://${reference}`], options);
}

/**
 * Writes the index an OCI layout holds (its index.json names one index) to `docker://<destination>` without its
 * instances (`--multi-arch index-only`: the registry must have them), byte for byte (`--preserve-digests`); returns
 * the digest the registry stored.
 */
export async function copyIndexOnly(
  layoutDir: string,
  destination: string,
  access: RegistryAccess,
  digestFile: string,
  options: RunOptions = {},
): Promise<string> {
  await rm(digestFile, { force: true });
  await runTool(
    'skopeo',
    [
      'copy',
      '--multi-arch',
      'index-only',
      '--preserve-digests',
      '--digestfile',
      digestFile,
      ...accessArgs(access, 'dest-'),
      `oci:${layoutDir}`,
      `docker://${destination}`,
    ],
    options,
  );
  return (await readFile(digestFile, 'utf8')).trim();
}

/** Writes an OCI layout at `dir` whose index.json points at `index` (an image index's JSON text), for `copyIndexOnly`. */
export async function writeIndexLayout(dir: string, index: string): Promise<string> {
  const digest = digestOf(index);
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  await writeFile(join(blobs, digest.slice('sha256:'.length)), index);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_INDEX, digest, size: Buffer.byteLength(index, 'utf8') }],
    }),
  );
  return digest;
}
