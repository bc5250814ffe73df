import { DomainError } from './errors.js';
import type { ComposeArch, ComposeInfo } from './types.js';

export interface ReleaseSettings {
  /** This release is also tagged "latest". */
  latest?: string;
  /** The release number Rawhide composes publish as. */
  rawhide?: string;
  /** The release versions published ("43", "Rawhide"); a compose of another is refused. Absent: any. */
  allowed?: string[];
}

export interface ReleaseTags {
  /** The release the run publishes for, e.g. "40". */
  release: string;
  /** Tags of the multi-arch index. */
  manifestTags: string[];
}

// The OCI distribution spec's tag grammar.
const OCI_TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export function isValidTag(tag: string): boolean {
  return OCI_TAG.test(tag);
}

/** The per-arch tag: `<release>-<compose arch>`, e.g. 40-aarch64. */
export function archTag(release: string, composeArch: ComposeArch): string {
  return `${release}-${composeArch}`;
}

export function isRawhide(info: ComposeInfo): boolean {
  return info.releaseVersion.toLowerCase() === 'rawhide';
}

/**
 * The release and manifest tags of a compose: a normal compose publishes as its version (plus
 * "latest" for the configured latest release); Rawhide publishes as the configured rawhide number
 * plus "rawhide".
 */
export function releaseTags(info: ComposeInfo, releases: ReleaseSettings): ReleaseTags {
  if (
    releases.allowed &&
    !releases.allowed.some((version) => version.toLowerCase() === info.releaseVersion.toLowerCase())
  ) {
    throw new DomainError(
      'ReleaseNotConfigured',
      `${info.composeId} is a compose of release ${JSON.stringify(info.releaseVersion.slice(0, 40))} (payload.release.version in metadata/composeinfo.json), which is not one of the releases this worker publishes (${releases.allowed.join(', ')}). Fix: add it to [releases] allowed in the config if it should be published`,
    );
  }
  if (isRawhide(info)) {
    const rawhide = releases.rawhide;
    if (!rawhide) {
      throw new DomainError(
        'ReleaseNotConfigured',
        `${info.composeId} is a Rawhide compose, but the configuration does not say which release number Rawhide is, so its images have no version tag. Fix: set [releases] rawhide = "<the Rawhide release number>" in the config`,
      );
    }
    if (!OCI_TAG.test(rawhide)) {
      throw new DomainError(
        'ReleaseNotConfigured',
        `The configuration's [releases] rawhide = ${JSON.stringify(rawhide)} is not a valid container tag. Fix: set it to the Rawhide release number, e.g. [releases] rawhide = "41"`,
      );
    }
    return { release: rawhide, manifestTags: [rawhide, 'rawhide'] };
  }
  const version = info.releaseVersion;
  if (!OCI_TAG.test(version)) {
    throw new DomainError(
      'MalformedComposeMetadata',
      `${info.composeId}: its release version (payload.release.version in metadata/composeinfo.json) ${JSON.stringify(version)} cannot be a container tag. Fix: publish a compose whose release version is a plain version like "40"`,
    );
  }
  return { release: version, manifestTags: version === releases.latest ? [version, 'latest'] : [version] };
}
