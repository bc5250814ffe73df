import type { ArchiveCompression, ComposeImage } from './types.js';

/** Which images.json entries are container images: [images] in the config. */
export interface ImageSelectionSettings {
  /** productmd image types of container images: Fedora writes "docker" up to 41 and "container" since 42. */
  types: string[];
  /** Compose arches left out of publication and of the gate, e.g. ["armhfp"]. */
  ignoreArches: string[];
}

export const DEFAULT_IMAGE_SELECTION: ImageSelectionSettings = { types: ['docker', 'container'], ignoreArches: [] };

/** The productmd formats this publisher reads, and how each is compressed. */
export const ARCHIVE_FORMATS: Readonly<Record<string, ArchiveCompression>> = {
  'tar.xz': 'xz',
  'tar.gz': 'gzip',
  tar: 'none',
  ociarchive: 'none',
};

/** Why an entry of a configured subvariant is not published; entries of other subvariants are simply not ours. */
export type SkipReason =
  { kind: 'type'; value: string } | { kind: 'format'; value: string } | { kind: 'ignored-arch'; value: string };

/** `selected` with the archive's compression, or why the entry is skipped. */
export type Selection = { selected: true; compression: ArchiveCompression } | { selected: false; reason: SkipReason };

export function selectImage(image: ComposeImage, settings: ImageSelectionSettings): Selection {
  if (settings.ignoreArches.includes(image.arch))
    return { selected: false, reason: { kind: 'ignored-arch', value: image.arch } };
  if (!settings.types.includes(image.type)) return { selected: false, reason: { kind: 'type', value: image.type } };
  const compression = Object.hasOwn(ARCHIVE_FORMATS, image.format) ? ARCHIVE_FORMATS[image.format] : undefined;
  if (!compression) return { selected: false, reason: { kind: 'format', value: image.format } };
  return { selected: true, compression };
}

/** One line per subvariant and reason: "Container_Base: 4 entries of type ociarchive skipped, not a container image type ([images] types: docker, container)". */
export function describeSkipped(
  subvariant: string,
  reason: SkipReason,
  count: number,
  settings: ImageSelectionSettings,
): string {
  const entries = `${count} ${count === 1 ? 'entry' : 'entries'}`;
  switch (reason.kind) {
    case 'type':
      return `${subvariant}: ${entries} of type ${reason.value} skipped, not a container image type ([images] types: ${settings.types.join(', ')})`;
    case 'format':
      return `${subvariant}: ${entries} of format ${reason.value} skipped, not an image archive format compose-publisher reads (${Object.keys(ARCHIVE_FORMATS).join(', ')})`;
    case 'ignored-arch':
      return `${subvariant}: ${entries} for arch ${reason.value} skipped, an arch the configuration leaves out ([images] ignore_arches)`;
  }
}
