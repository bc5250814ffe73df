/**
 * The multi-arch OCI image index a repository's tags point at, composed from its instances' descriptors: what
 * `buildah manifest create` + `add` + `annotate` + `push --format oci` wrote before, as one pure function, so an index
 * is written with one call per registry and tag. Pure: no I/O, no hashing (the caller hashes the returned text).
 */
import { DomainError } from './errors.js';
import { COMPOSE_ID_ANNOTATION } from './types.js';

export const OCI_INDEX_MEDIA_TYPE = 'application/vnd.oci.image.index.v1+json';
export const OCI_MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
export const DOCKER_MANIFEST_MEDIA_TYPE = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_CONFIG_MEDIA_TYPE = 'application/vnd.docker.container.image.v1+json';
const INDEX_MEDIA_TYPES = [OCI_INDEX_MEDIA_TYPE, 'application/vnd.docker.distribution.manifest.list.v2+json'];

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** One instance as the index lists it: the image manifest by digest, its media type and size, where it runs. */
export interface InstanceDescriptor {
  digest: string;
  mediaType: string;
  /** Bytes of the manifest. */
  size: number;
  platform: Platform;
  /** Written as the org.fedoraproject.compose.id annotation, as before. */
  composeId?: string;
}

interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform: Platform;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The index's JSON text: `schemaVersion` 2, OCI index media type, one descriptor per instance in the given order, each
 * with its media type, digest, size, the compose-id annotation when it has one, and its platform (os, architecture,
 * variant when there is one). The same instances always give the same bytes, so a retry writes the same digest.
 */
export function composeIndex(instances: readonly InstanceDescriptor[]): string {
  if (instances.length === 0) throw new DomainError('InvalidInput', 'an index needs at least one instance, got none');
  const seen = new Set<string>();
  const manifests = instances.map((instance): OciDescriptor => {
    if (!DIGEST.test(instance.digest))
      throw new DomainError(
        'InvalidInput',
        `instance digest ${JSON.stringify(instance.digest)} is not sha256:<64 hex>`,
      );
    if (seen.has(instance.digest))
      throw new DomainError('InvalidInput', `instance ${instance.digest} is listed twice in the index`);
    seen.add(instance.digest);
    if (!Number.isSafeInteger(instance.size) || instance.size <= 0)
      throw new DomainError('InvalidInput', `instance ${instance.digest} has size ${instance.size}, not a byte count`);
    if (!instance.mediaType || INDEX_MEDIA_TYPES.includes(instance.mediaType))
      throw new DomainError(
        'InvalidInput',
        `instance ${instance.digest} has media type ${JSON.stringify(instance.mediaType)}: an index lists image manifests`,
      );
    if (!instance.platform.architecture || !instance.platform.os)
      throw new DomainError('InvalidInput', `instance ${instance.digest} has no platform os/architecture`);
    return {
      mediaType: instance.mediaType,
      digest: instance.digest,
      size: instance.size,
      ...(instance.composeId ? { annotations: { [COMPOSE_ID_ANNOTATION]: instance.composeId } } : {}),
      platform: {
        architecture: instance.platform.architecture,
        os: instance.platform.os,
        ...(instance.platform.variant ? { variant: instance.platform.variant } : {}),
      },
    };
  });
  return JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX_MEDIA_TYPE, manifests });
}

/** UTF-8 bytes of a text: a manifest's size as a registry counts it. */
export function byteLength(text: string): number {
  return new TextEncoder().encode(text).length;
}

/**
 * An instance's descriptor from what its registry serves: the raw manifest (its media type, its size) and the
 * platform, from the image config or as the caller already knows it.
 */
export function describeInstance(input: {
  digest: string;
  /** The manifest exactly as the registry serves it. */
  rawManifest: string;
  /** The image config's JSON (architecture, os, variant), or the platform when it is known without it. */
  platform: Platform | string;
  composeId?: string;
}): InstanceDescriptor {
  let document: { mediaType?: unknown; manifests?: unknown; config?: { mediaType?: unknown } };
  try {
    document = JSON.parse(input.rawManifest) as typeof document;
  } catch {
    throw new DomainError('InvalidInput', `the manifest of ${input.digest} is not JSON`);
  }
  if (Array.isArray(document.manifests))
    throw new DomainError('InvalidInput', `${input.digest} is itself an index: an index lists image manifests`);
  const mediaType =
    typeof document.mediaType === 'string' && document.mediaType
      ? document.mediaType
      : document.config?.mediaType === DOCKER_CONFIG_MEDIA_TYPE
        ? DOCKER_MANIFEST_MEDIA_TYPE
        : OCI_MANIFEST_MEDIA_TYPE;
  return {
    digest: input.digest,
    mediaType,
    size: byteLength(input.rawManifest),
    platform: typeof input.platform === 'string' ? platformOfConfig(input.digest, input.platform) : input.platform,
    ...(input.composeId ? { composeId: input.composeId } : {}),
  };
}

/** The platform an image config (JSON text) names: architecture and os, and variant when it has one. */
export function platformOfConfig(digest: string, configJson: string): Platform {
  let config: { architecture?: unknown; os?: unknown; variant?: unknown };
  try {
    config = JSON.parse(configJson) as typeof config;
  } catch {
    throw new DomainError('InvalidInput', `the image config of ${digest} is not JSON`);
  }
  if (typeof config.architecture !== 'string' || !config.architecture || typeof config.os !== 'string' || !config.os)
    throw new DomainError('InvalidInput', `the image config of ${digest} names no architecture and os`);
  return {
    architecture: config.architecture,
    os: config.os,
    ...(typeof config.variant === 'string' && config.variant ? { variant: config.variant } : {}),
  };
}
