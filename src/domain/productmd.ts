import { z } from 'zod';
import { parseComposeId } from './compose-id.js';
import { baseName, checkComposeRoot, resolveImageLocation } from './compose-location.js';
import { malformedMetadata } from './errors.js';
import { appendJsonPath, formatJsonPath } from './json-path.js';
import { checkShape } from './metadata-shape.js';
import type { ComposeImage, ComposeInfo, ImageOrigin } from './types.js';

/** The productmd image type of container images. */
export const CONTAINER_IMAGE_TYPE = 'docker';

const nonEmpty = z.string().min(1);

const headerShape = z.object({ header: z.object({ version: nonEmpty }) });

const composeInfoShape = z.object({
  payload: z.object({
    compose: z.object({ id: nonEmpty }),
    release: z.object({ short: nonEmpty, version: nonEmpty }),
  }),
});

// Fields every entry must have. Integrity fields are checked strictly only for container entries.
const entryFields = { arch: nonEmpty, type: nonEmpty, format: nonEmpty, subvariant: z.string().default('') };
const loose = z.unknown().optional();
const entryV1 = z.object({ ...entryFields, path: nonEmpty, size: loose, checksums: loose });
const entryV2 = z.object({
  ...entryFields,
  location: z.object({ url: nonEmpty, local_path: z.string().optional(), size: loose, checksum: loose }),
});
const imagesShape = <E extends z.ZodType>(entry: E) =>
  z.object({ payload: z.object({ images: z.record(z.string(), z.record(z.string(), z.array(entry))) }) });
const imagesV1Shape = imagesShape(entryV1);
const imagesV2Shape = imagesShape(entryV2);

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const SHA256_PREFIXED = /^sha256:[0-9a-fA-F]{64}$/;
const fileSize = z.number().int().nonnegative();
const containerIntegrityV1 = z.object({
  size: fileSize,
  checksums: z.object({ sha256: z.string().regex(SHA256_HEX, 'must be the sha256 of the image file, 64 hex digits') }),
});
const containerIntegrityV2 = z.object({
  location: z.object({
    size: fileSize,
    checksum: z.string().regex(SHA256_PREFIXED, 'must be "sha256:" followed by the 64 hex digits of the image file\'s sha256'),
  }),
});

type ProductmdMajor = 1 | 2;

/** Reads composeinfo.json (productmd 1.x or 2.0): compose id, release short name and version. */
export function parseComposeInfo(json: unknown, file: string): ComposeInfo {
  productmdMajor(json, file);
  const { payload } = checkShape(composeInfoShape, json, file);
  parseComposeId(payload.compose.id, `${file}: payload.compose.id`);
  return { composeId: payload.compose.id, releaseShort: payload.release.short, releaseVersion: payload.release.version };
}

/**
 * Reads images.json (productmd 1.x or 2.0): every entry of payload.images[variant][arch][], in
 * document order. Relative paths and URLs are resolved against composeRoot (an http(s) URL or an
 * absolute path to the directory holding metadata/); absolute URLs, oci:// included, are kept.
 */
export function parseImages(json: unknown, file: string, composeRoot: string): ComposeImage[] {
  checkComposeRoot(composeRoot);
  return productmdMajor(json, file) === 1 ? parseImagesV1(json, file, composeRoot) : parseImagesV2(json, file, composeRoot);
}

function parseImagesV1(json: unknown, file: string, composeRoot: string): ComposeImage[] {
  const { payload } = checkShape(imagesV1Shape, json, file);
  return eachEntry(payload.images, (entry, variant, where) => {
    let size = wellFormedSize(entry.size);
    let sha256 = wellFormedSha256(isRecord(entry.checksums) ? entry.checksums.sha256 : undefined);
    if (entry.type === CONTAINER_IMAGE_TYPE) {
      const checked = checkShape(containerIntegrityV1, entry, file, where);
      size = checked.size;
      sha256 = checked.checksums.sha256.toLowerCase();
    }
    const origin = imageOrigin(file, where, 'path');
    const location = resolveEntryLocation(composeRoot, entry.path, entry.type, origin);
    return image(entry, variant, baseName(entry.path), location, size, sha256, origin);
  });
}

function parseImagesV2(json: unknown, file: string, composeRoot: string): ComposeImage[] {
  const { payload } = checkShape(imagesV2Shape, json, file);
  return eachEntry(payload.images, (entry, variant, where) => {
    let size = wellFormedSize(entry.location.size);
    let sha256 = wellFormedSha256(sha256Hex(entry.location.checksum));
    if (entry.type === CONTAINER_IMAGE_TYPE) {
      const checked = checkShape(containerIntegrityV2, entry, file, where);
      size = checked.location.size;
      sha256 = sha256Hex(checked.location.checksum)?.toLowerCase();
    }
    const { url, local_path: localPath } = entry.location;
    const origin = imageOrigin(file, where, 'location', 'url');
    const location = resolveEntryLocation(composeRoot, url, entry.type, origin);
    return image(entry, variant, baseName(localPath || url), location, size, sha256, origin);
  });
}

type EntryFields = z.output<z.ZodObject<typeof entryFields>>;

function eachEntry<E>(images: Record<string, Record<string, E[]>>, read: (entry: E, variant: string, where: PropertyKey[]) => ComposeImage): ComposeImage[] {
  const out: ComposeImage[] = [];
  for (const [variant, arches] of Object.entries(images)) {
    for (const [arch, entries] of Object.entries(arches)) {
      entries.forEach((entry, index) => out.push(read(entry, variant, ['payload', 'images', variant, arch, index])));
    }
  }
  return out;
}

function image(
  entry: EntryFields,
  variant: string,
  fileName: string,
  location: string,
  size: number | undefined,
  sha256: string | undefined,
  origin: ImageOrigin,
): ComposeImage {
  return {
    variant,
    arch: entry.arch,
    subvariant: entry.subvariant,
    type: entry.type,
    format: entry.format,
    fileName,
    location,
    ...(size === undefined ? {} : { size }),
    ...(sha256 === undefined ? {} : { sha256 }),
    origin,
  };
}

function imageOrigin(file: string, where: PropertyKey[], ...locationField: string[]): ImageOrigin {
  const jsonPath = formatJsonPath(where);
  return { file, jsonPath, locationPath: appendJsonPath(jsonPath, ...locationField) };
}

function productmdMajor(json: unknown, file: string): ProductmdMajor {
  const { header } = checkShape(headerShape, json, file);
  if (/^1\.\d+$/.test(header.version)) return 1;
  if (header.version === '2.0') return 2;
  throw malformedMetadata(
    file,
    'header.version',
    `is ${JSON.stringify(header.version)}, a productmd format this publisher does not read (it reads 1.x and 2.0)`,
    'publish a compose whose metadata is productmd 1.x or 2.0, or upgrade compose-publisher to a version that reads this format',
  );
}

// A container image path must stay inside the compose; other entries are kept as given when odd.
function resolveEntryLocation(composeRoot: string, reference: string, type: string, origin: ImageOrigin): string {
  const resolved = resolveImageLocation(composeRoot, reference);
  if (resolved !== undefined) return resolved;
  if (type !== CONTAINER_IMAGE_TYPE) return reference;
  throw malformedMetadata(origin.file, origin.locationPath, `is ${JSON.stringify(reference)}, which is not a path inside the compose (it must be relative to the compose's top directory, or a URL)`);
}

function wellFormedSize(value: unknown): number | undefined {
  return fileSize.safeParse(value).success ? (value as number) : undefined;
}

function wellFormedSha256(value: unknown): string | undefined {
  return typeof value === 'string' && SHA256_HEX.test(value) ? value.toLowerCase() : undefined;
}

/** The hex part of a productmd 2.0 "sha256:<hex>" checksum. */
function sha256Hex(checksum: unknown): string | undefined {
  return typeof checksum === 'string' && checksum.startsWith('sha256:') ? checksum.slice('sha256:'.length) : undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
