/** Shapes shared by workflows and activities. Plain data only: everything here crosses Temporal's payload boundary. */

/** An architecture as a compose names it: x86_64, aarch64, ppc64le, s390x. */
export type ComposeArch = string;
/** An architecture as OCI names it: amd64, arm64, ppc64le, s390x. */
export type OciArch = string;

export interface ComposeInfo {
  composeId: string;
  releaseShort: string;
  /** "40", or "Rawhide" for Rawhide composes. */
  releaseVersion: string;
}

/** How an image file is compressed, from its productmd format: tar.xz → xz, tar.gz → gzip, tar/ociarchive → none. */
export type ArchiveCompression = 'xz' | 'gzip' | 'none';

/** One container image file in a compose. */
export interface ImageArtifact {
  composeArch: ComposeArch;
  ociArch: OciArch;
  /** Absolute http(s) URL or absolute local path of the image file. */
  location: string;
  fileName: string;
  size?: number;
  sha256: string;
  /** Absent in runs planned before formats were read: those were xz. */
  compression?: ArchiveCompression;
  /** Where the entry is in images.json, for messages, e.g. "Container/s390x Container_Base". */
  entry?: { variant: string; subvariant: string };
}

export interface RepositoryPlan {
  repository: string;
  subvariant: string;
  /** One per built arch, sorted by OCI arch. */
  images: ImageArtifact[];
  /** Why entries of this repository's subvariant were not published, e.g. "Container_Base: 4 entries of type ociarchive skipped, …". */
  skipped?: string[];
}

export interface PublishPlan {
  composeId: string;
  /** The release the run publishes for, e.g. "40"; for Rawhide the configured rawhide number. */
  release: string;
  /** Tags of the multi-arch index, e.g. ["40", "latest"] or ["41", "rawhide"]. */
  manifestTags: string[];
  repositories: RepositoryPlan[];
  /** The worker has no [compose] allowed_locations: it read this compose without checking where it comes from. */
  locationUnchecked?: true;
}

/**
 * What prepareImage found in an image: the manifest digest it will have in a registry, and the platform of its image
 * config. Recorded histories from before the platform hold the digest alone (a string).
 */
export interface PreparedImage {
  digest: string;
  platform: { architecture: string; os: string; variant?: string };
}

/** One instance (arch image) of an index, published or to be published. */
export interface IndexInstance {
  ociArch: OciArch;
  digest: string;
  /** From the instance's org.fedoraproject.compose.id annotation, when it has one. */
  composeId?: string;
  /**
   * The platform the index lists for the instance (from its image config: os, architecture, variant). Optional: when
   * absent, writeIndex reads the config from the registry (one more request per instance and registry).
   */
  platform?: { architecture: string; os: string; variant?: string };
}

/**
 * What one registry holds at one repository:tag: an index (instances listed) or an arch image (an arch tag: no
 * instances). digest null means the tag does not exist yet.
 */
export interface PublishedTag {
  registry: string;
  repository: string;
  tag: string;
  digest: string | null;
  instances: IndexInstance[];
}

/** `failed`: the repository's publication failed (its error says why); the run's other repositories carried on. */
export const GATE_DECISION_KINDS = [
  'pass',
  'blocked',
  'noop',
  'overridden',
  'superseded',
  'skipped',
  'failed',
] as const;
export type GateDecisionKind = (typeof GATE_DECISION_KINDS)[number];

export interface RepositoryDecision {
  repository: string;
  decision: GateDecisionKind;
  /** OCI arches this compose built, sorted. */
  built: OciArch[];
  /** OCI arches in the index published before this run (union over registries and tags): what the gate compared with. Sorted. */
  published: OciArch[];
  /** published − built, sorted. */
  missing: OciArch[];
  /** For superseded: the newer compose id found in the published index. */
  newerComposeId?: string;
}

export const COMPOSE_ID_ANNOTATION = 'org.fedoraproject.compose.id';

/** Where an images.json entry was read from, for error messages. */
export interface ImageOrigin {
  file: string;
  /** The entry, e.g. payload.images.Container.x86_64[0] */
  jsonPath: string;
  /** Its location field: ….path (productmd 1.x) or ….location.url (2.0). */
  locationPath: string;
}

/**
 * One entry of a compose's images.json, any type (the plan selects the container images). Read leniently:
 * size and checksums are kept as found, and only the entries the plan selects must have them right.
 */
export interface ComposeImage {
  /** Variant UID, e.g. "Container". */
  variant: string;
  arch: ComposeArch;
  /** e.g. Container_Base; "" when the entry has none. */
  subvariant: string;
  /** productmd image type; container images are "docker" (Fedora ≤ 41) or "container" (Fedora 42+). */
  type: string;
  /** e.g. "tar.xz" */
  format: string;
  fileName: string;
  /**
   * Absolute http(s) URL or absolute local path; other URLs (oci://…) as given. Undefined when the entry
   * names a path outside the compose (absolute, or climbing out with ..).
   */
  location: string | undefined;
  /** As found in the entry: not checked until the entry is selected. */
  size?: unknown;
  /** The sha256 as found (hex, not yet checked), when the entry has one. */
  sha256?: string;
  /** Every checksum algorithm the entry lists, e.g. ["md5", "sha1", "sha256"]. */
  checksumAlgorithms: string[];
  origin: ImageOrigin;
}
