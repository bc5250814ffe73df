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

/** One container image file in a compose. */
export interface ImageArtifact {
  composeArch: ComposeArch;
  ociArch: OciArch;
  /** Absolute http(s) URL or absolute local path of the .oci.tar.xz file. */
  location: string;
  fileName: string;
  size?: number;
  sha256: string;
}

export interface RepositoryPlan {
  repository: string;
  subvariant: string;
  /** One per built arch, sorted by OCI arch. */
  images: ImageArtifact[];
}

export interface PublishPlan {
  composeId: string;
  /** The release the run publishes for, e.g. "40"; for Rawhide the configured rawhide number. */
  release: string;
  /** Tags of the multi-arch index, e.g. ["40", "latest"] or ["41", "rawhide"]. */
  manifestTags: string[];
  repositories: RepositoryPlan[];
}

/** One instance of a published index. */
export interface PublishedInstance {
  ociArch: OciArch;
  digest: string;
  /** From the instance's org.fedoraproject.compose.id annotation, when it has one. */
  composeId?: string;
}

/** What one registry holds at one repository:tag. digest null means the tag does not exist yet. */
export interface PublishedManifest {
  registry: string;
  repository: string;
  tag: string;
  digest: string | null;
  instances: PublishedInstance[];
}

export type GateDecisionKind = 'pass' | 'blocked' | 'noop' | 'overridden' | 'superseded' | 'skipped';

export interface RepositoryDecision {
  repository: string;
  decision: GateDecisionKind;
  /** OCI arches this compose built, sorted. */
  built: OciArch[];
  /** OCI arches in the published index (union over registries and tags), sorted. */
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
 * One entry of a compose's images.json, any type (the plan selects the container images).
 * Container entries (type "docker") always have size and sha256; other entries are read leniently
 * and keep them only when well-formed.
 */
export interface ComposeImage {
  /** Variant UID, e.g. "Container". */
  variant: string;
  arch: ComposeArch;
  /** e.g. Container_Base; "" when the entry has none. */
  subvariant: string;
  /** productmd image type; container images are "docker". */
  type: string;
  /** e.g. "tar.xz" */
  format: string;
  fileName: string;
  /** Absolute http(s) URL or absolute local path; other URLs (oci://…) as given. */
  location: string;
  size?: number;
  /** Lowercase hex. */
  sha256?: string;
  origin: ImageOrigin;
}
