import { toOciArch } from './arches.js';
import { parseComposeId } from './compose-id.js';
import { isFetchableLocation, isOciReference } from './compose-location.js';
import { DomainError, malformedMetadata } from './errors.js';
import { compareStrings, sortedUnique } from './sorting.js';
import { CONTAINER_IMAGE_TYPE } from './productmd.js';
import { releaseTags, type ReleaseSettings } from './tags.js';
import type { ComposeImage, ComposeInfo, ImageArtifact, PublishPlan, RepositoryPlan } from './types.js';

export interface BuildPlanInput {
  info: ComposeInfo;
  images: ComposeImage[];
  /** subvariant → repository, from [repositories] */
  repositories: Record<string, string>;
  /** compose arch → OCI arch, from [architectures] */
  architectures: Record<string, string>;
  releases: ReleaseSettings;
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

  const byRepository = new Map<string, Selected[]>();
  for (const repository of Object.values(input.repositories)) byRepository.set(repository, []);
  for (const image of input.images) {
    if (image.type !== CONTAINER_IMAGE_TYPE || !Object.hasOwn(input.repositories, image.subvariant)) continue;
    const repository = input.repositories[image.subvariant] ?? '';
    const selected = byRepository.get(repository) ?? [];
    const artifact = toArtifact(image, input.architectures);
    const clash = selected.find((other) => other.artifact.ociArch === artifact.ociArch);
    if (clash) throw duplicateImage(repository, release, clash, { image, artifact });
    selected.push({ image, artifact });
    byRepository.set(repository, selected);
  }

  const repositories = [...byRepository.entries()]
    .sort(([a], [b]) => compareStrings(a, b))
    .map(([repository, selected]) => repositoryPlan(repository, selected, input.repositories));
  return { composeId: input.info.composeId, release, manifestTags, repositories };
}

function toArtifact(image: ComposeImage, architectures: Record<string, string>): ImageArtifact {
  const where = `${image.origin.file}: ${image.origin.jsonPath}`;
  if (!isFetchableLocation(image.location)) throw unsupportedLocation(image);
  if (image.sha256 === undefined) {
    throw malformedMetadata(image.origin.file, image.origin.jsonPath, 'has no sha256 checksum, which every container image must have');
  }
  return {
    composeArch: image.arch,
    ociArch: toOciArch(image.arch, architectures, where),
    location: image.location,
    fileName: image.fileName,
    ...(image.size === undefined ? {} : { size: image.size }),
    sha256: image.sha256,
  };
}

function repositoryPlan(repository: string, selected: Selected[], repositories: Record<string, string>): RepositoryPlan {
  const [first] = selected;
  const other = selected.find(({ image }) => image.subvariant !== first?.image.subvariant);
  if (first && other) {
    throw new DomainError(
      'DuplicateImage',
      `${first.image.origin.file}: ${first.image.origin.jsonPath} (${first.image.subvariant}) and ${other.image.origin.jsonPath} (${other.image.subvariant}) are images of two subvariants for the same repository ${repository}; one index cannot mix them. ` +
        `Fix: map ${first.image.subvariant} and ${other.image.subvariant} to different repositories in [repositories] of the config`,
    );
  }
  const configured = Object.keys(repositories).filter((subvariant) => repositories[subvariant] === repository);
  return {
    repository,
    subvariant: first?.image.subvariant ?? sortedUnique(configured)[0] ?? '',
    images: selected.map(({ artifact }) => artifact).sort((a, b) => compareStrings(a.ociArch, b.ociArch)),
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

function unsupportedLocation(image: ComposeImage): DomainError {
  const kind = isOciReference(image.location) ? 'an OCI registry reference' : 'neither an http(s) URL nor an absolute path';
  return new DomainError(
    'UnsupportedImageLocation',
    `${image.origin.file}: ${image.origin.locationPath} is ${JSON.stringify(image.location)}, ${kind}; the ${image.subvariant} image for ${image.arch} can only be published from an image file. ` +
      `Fix: publish from a compose whose images.json locates the image files (a relative path or an https URL), or remove ${image.subvariant} from [repositories] in the config`,
  );
}
