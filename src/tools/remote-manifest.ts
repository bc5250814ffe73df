import { createHash } from 'node:crypto';
import { z } from 'zod';

export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

/** Every manifest media type a registry may answer with: the distribution registry needs them in Accept to serve an index. */
export const MANIFEST_MEDIA_TYPES = [
  OCI_INDEX,
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

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
const imageManifestSchema = z.object({
  mediaType: z.string().optional(),
  config: z.object({ digest: z.string().regex(/^sha256:[0-9a-f]{64}$/) }),
});
const imageConfigSchema = z.object({ architecture: z.string(), os: z.string() });

/** The sha256 digest of a manifest's text, as registries name it. */
export function manifestDigest(rawManifest: string): string {
  return `sha256:${createHash('sha256').update(rawManifest, 'utf8').digest('hex')}`;
}

/** The config blob's digest of a single-arch image manifest (the registry is not trusted to send a well-formed one). */
export function configDigestOf(rawManifest: string): string {
  return imageManifestSchema.parse(JSON.parse(rawManifest)).config.digest;
}

/**
 * What a manifest read from a registry is: an index with its instances, or an image with the platform its config
 * names (`readConfig` is asked only for an image).
 */
export async function describeRemoteManifest(
  rawManifest: string,
  readConfig: () => Promise<string>,
): Promise<RemoteManifest> {
  const digest = manifestDigest(rawManifest);
  const document = JSON.parse(rawManifest) as { mediaType?: string; manifests?: unknown };
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
  const config = imageConfigSchema.parse(JSON.parse(await readConfig()));
  return {
    kind: 'image',
    digest,
    mediaType: document.mediaType ?? 'unknown',
    architecture: config.architecture,
    os: config.os,
  };
}
