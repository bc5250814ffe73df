import { toOciArch } from './arches.js';
import { parseComposeId } from './compose-id.js';
import { isFetchableLocation, isOciReference } from './compose-location.js';
import { DomainError, malformedMetadata } from './errors.js';
import { compareStrings, sortedUnique } from './sorting.js';
import {
  DEFAULT_IMAGE_SELECTION,
  describeSkipped,
  selectImage,
  type ImageSelectionSettings,
  type SkipReason,
} from './image-selection.js';
import { archTag, isValidTag, releaseTags, type ReleaseSettings } from './tags.js';
import type {
  ArchiveCompression,
  ComposeImage,
  ComposeInfo,
  ImageArtifact,
  PublishPlan,
  RepositoryPlan,
} from './types.js';

export interface BuildPlanInput {
  info: ComposeInfo;
  images: ComposeImage[];
  /** subvariant → repository, from [repositories] */
  repositories: Record<string, string>;
  /** compose arch → OCI arch, from [architectures] */
  architectures: Record<string, string>;
  releases: ReleaseSettings;
  /** [images]: which entries are container images; both Fedora types by default. */
  selection?: ImageSelectionSettings;
}

interface SkippedEntries {
  subvariant: string;
  reason: SkipReason;
  count: number;
}

interface Selected {
  image: ComposeImage;
  artifact: ImageArtifact;
}

/**
 * What this compose publishes: every configured repository with the container images the compose
 * built for it. A repository whose subvariant failed on every arch is absent from images.json but
 * still in the plan, with no images, so the gate sees that every published arch would be dropped.
 */
export function buildPlan(input: BuildPlanInput): PublishPlan {
  parseComposeId(input.info.composeId);
  const { release, manifestTags } = releaseTags(input.info, input.releases);
  const selection = input.selection ?? DEFAULT_IMAGE_SELECTION;

  const byRepository = new Map<string, Selected[]>();
  const skipped = new Map<string, Map<string, SkippedEntries>>();
  for (const repository of Object.values(input.repositories)) byRepository.set(repository, []);
  for (const image of input.images) {
    if (!Object.hasOwn(input.repositories, image.subvariant)) continue;
    const repository = input.repositories[image.subvariant] ?? '';
    const chosen = selectImage(image, selection);
    if (!chosen.selected) {
      const notes = skipped.get(repository) ?? new Map<string, SkippedEntries>();
      const key = `${image.subvariant} ${chosen.reason.kind} ${chosen.reason.value}`;
      const note = notes.get(key) ?? { subvariant: image.subvariant, reason: chosen.reason, count: 0 };
      note.count += 1;
      skipped.set(repository, notes.set(key, note));
      continue;
    }
    const selected = byRepository.get(repository) ?? [];
    const artifact = toArtifact(image, chosen.compression, input.architectures);
    if (!isValidTag(archTag(release, artifact.composeArch))) {
      throw new DomainError(
        'MalformedComposeMetadata',
        `${image.origin.file}: the tag ${JSON.stringify(archTag(release, artifact.composeArch).slice(0, 140))} of the ${image.subvariant} image for ${image.arch} is not a valid container tag (at most 128 letters, digits, ".", "_", "-"); the release version in composeinfo.json is too long or odd. Fix: publish a compose whose release version is a plain version like "43"`,
      );
    }
    const clash = selected.find((other) => other.artifact.ociArch === artifact.ociArch);
    if (clash) throw duplicateImage(repository, release, clash, { image, artifact });
    selected.push({ image, artifact });
    byRepository.set(repository, selected);
  }

  const repositories = [...byRepository.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([repository, selected]) => {
      const notes = [...(skipped.get(repository)?.values() ?? [])].map(({ subvariant, reason, count }) =>
        describeSkipped(subvariant, reason, count, selection),
      );
      return repositoryPlan(repository, selected, input.repositories, notes.sort(compareStrings));
    });
  return { composeId: input.info.composeId, release, manifestTags, repositories };
}

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
/** Keeps a plan (a workflow payload) small whatever images.json says: real locations are a few hundred characters. */
const MAX_LOCATION_LENGTH = 4096;

/** A selected entry must say exactly which file to publish: where it is, its size and its sha256. */
function toArtifact(
  image: ComposeImage,
  compression: ArchiveCompression,
  architectures: Record<string, string>,
): ImageArtifact {
  const where = `${image.origin.file}: ${image.origin.jsonPath}`;
  if (image.location === undefined) throw outsideCompose(image);
  if (image.location.length > MAX_LOCATION_LENGTH) {
    throw malformedMetadata(
      image.origin.file,
      image.origin.locationPath,
      `is ${image.location.length} characters long; a compose's image location has at most ${MAX_LOCATION_LENGTH}`,
    );
  }
  if (!isFetchableLocation(image.location)) throw unsupportedLocation(image, image.location);
  const sizeField = image.origin.locationPath.endsWith('.url')
    ? image.origin.locationPath.replace(/\.url$/, '.size')
    : `${image.origin.jsonPath}.size`;
  if (!Number.isSafeInteger(image.size) || (image.size as number) < 0) {
    throw malformedMetadata(
      image.origin.file,
      sizeField,
      `is ${describe(image.size)}, expected the image file's size in bytes (a ${image.subvariant} image for ${image.arch}, which this compose publishes)`,
    );
  }
  if (image.sha256 === undefined) throw missingSha256(image);
  if (!SHA256_HEX.test(image.sha256)) {
    throw malformedMetadata(
      image.origin.file,
      checksumField(image),
      `is ${JSON.stringify(image.sha256.slice(0, 80))}: must be the sha256 of the image file, 64 hex digits`,
    );
  }
  return {
    composeArch: image.arch,
    ociArch: toOciArch(image.arch, architectures, where),
    location: image.location,
    fileName: image.fileName,
    size: image.size as number,
    sha256: image.sha256.toLowerCase(),
    compression,
    entry: { variant: image.variant, subvariant: image.subvariant },
  };
}

function checksumField(image: ComposeImage): string {
  return image.origin.locationPath.endsWith('.url')
    ? image.origin.locationPath.replace(/\.url$/, '.checksum')
    : `${image.origin.jsonPath}.checksums.sha256`;
}

function missingSha256(image: ComposeImage): DomainError {
  const has =
    image.checksumAlgorithms.length > 0
      ? `it lists only ${image.checksumAlgorithms.join(', ')}`
      : 'it lists no checksum';
  return new DomainError(
    'MalformedComposeMetadata',
    `${image.origin.file}: ${checksumField(image)} is missing: the ${image.subvariant} image for ${image.arch} (${image.fileName}) has no sha256 checksum (${has}), and compose-publisher verifies every image it publishes by its sha256. ` +
      `Fix: have Pungi write sha256 checksums (its media_checksums setting must include "sha256") and publish a compose made that way, or remove ${image.subvariant} from [repositories] in the config`,
  );
}

function outsideCompose(image: ComposeImage): DomainError {
  return malformedMetadata(
    image.origin.file,
    image.origin.locationPath,
    `names a file outside the compose (an absolute path, or one that climbs out with ..); the ${image.subvariant} image for ${image.arch} must be a path relative to the compose's top directory, or a URL`,
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value.slice(0, 80));
  return typeof value === 'number' || typeof value === 'boolean' || value === null
    ? String(value)
    : `a JSON ${Array.isArray(value) ? 'array' : 'object'}`;
}

function repositoryPlan(
  repository: string,
  selected: Selected[],
  repositories: Record<string, string>,
  skipped: string[],
): RepositoryPlan {
  const [first] = selected;
  const other = selected.find(({ image }) => image.subvariant !== first?.image.subvariant);
  if (first && other) {
    throw new DomainError(
      'DuplicateImage',
      `${first.image.origin.file}: ${first.image.origin.jsonPath} (${first.image.subvariant}) and ${other.image.origin.jsonPath} (${other.image.subvariant}) are images of two subvariants for the same repository ${repository}; one index cannot mix them. ` +
        `Fix: map ${first.image.subvariant} and ${other.image.subvariant} to different repositories in [repositories] of the config`,
    );
  }
  const configured = sortedUnique(
    Object.keys(repositories).filter((subvariant) => repositories[subvariant] === repository),
  );
  // Nothing to publish is said, never left to a bare noop or blocked: the compose simply has no such image.
  const notes =
    selected.length === 0 && skipped.length === 0
      ? [
          `${configured.join(', ')}: this compose has no image of ${configured.length > 1 ? 'these subvariants' : 'this subvariant'}`,
        ]
      : skipped;
  return {
    repository,
    subvariant: first?.image.subvariant ?? configured[0] ?? '',
    images: selected.map(({ artifact }) => artifact).sort((a, b) => compareStrings(a.ociArch, b.ociArch)),
    ...(notes.length > 0 ? { skipped: notes } : {}),
  };
}

function duplicateImage(repository: string, release: string, first: Selected, second: Selected): DomainError {
  const { ociArch } = second.artifact;
  const sameTag = first.artifact.composeArch === second.artifact.composeArch;
  return new DomainError(
    'DuplicateImage',
    `${first.image.origin.file}: ${first.image.origin.jsonPath} and ${second.image.origin.jsonPath} are both ${second.image.subvariant} container images for OCI arch ${ociArch} ` +
      `(compose arch${sameTag ? ` ${second.artifact.composeArch}` : `es ${first.artifact.composeArch} and ${second.artifact.composeArch}`}); ` +
      `${repository}:${release} can hold only one image per arch. ` +
      `Fix: ${sameTag ? 'the compose must have one image per subvariant and arch (check the compose configuration), or' : 'map the two compose arches to different OCI arches in [architectures], or'} map the subvariants to different repositories in [repositories]`,
  );
}

function unsupportedLocation(image: ComposeImage, location: string): DomainError {
  const kind = isOciReference(location) ? 'an OCI registry reference' : 'neither an http(s) URL nor an absolute path';
  return new DomainError(
    'UnsupportedImageLocation',
    `${image.origin.file}: ${image.origin.locationPath} is ${JSON.stringify(location)}, ${kind}; the ${image.subvariant} image for ${image.arch} can only be published from an image file. ` +
      `Fix: publish from a compose whose images.json locates the image files (a relative path or an https URL), or remove ${image.subvariant} from [repositories] in the config`,
  );
}
