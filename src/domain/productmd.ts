import { z } from 'zod';
import { parseComposeId } from './compose-id.js';
import { baseName, checkComposeRoot, resolveImageLocation } from './compose-location.js';
import { malformedMetadata } from './errors.js';
import { appendJsonPath, formatJsonPath } from './json-path.js';
import { checkShape } from './metadata-shape.js';
import type { ComposeImage, ComposeInfo, ImageOrigin } from './types.js';

const nonEmpty = z.string().min(1);

const headerShape = z.object({ header: z.object({ type: nonEmpty, version: nonEmpty }) });

const composeInfoShape = z.object({
  payload: z.object({
    compose: z.object({ id: nonEmpty }),
    release: z.object({ short: nonEmpty, version: nonEmpty }),
  }),
});

// Fields every entry must have. Size and checksums are kept as found: only the entries the plan selects must have them right.
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

type ProductmdMajor = 1 | 2;

/** Reads composeinfo.json (productmd 1.x or 2.0): compose id, release short name and version. */
export function parseComposeInfo(json: unknown, file: string): ComposeInfo {
  productmdMajor(json, file, 'productmd.composeinfo');
  const { payload } = checkShape(composeInfoShape, json, file);
  parseComposeId(payload.compose.id, `${file}: payload.compose.id`);
  return {
    composeId: payload.compose.id,
    releaseShort: payload.release.short,
    releaseVersion: payload.release.version,
  };
}

/** The compose id images.json names (payload.compose.id), when it names one: it must be composeinfo.json's. */
export function imagesComposeId(json: unknown): string | undefined {
  const id = (json as { payload?: { compose?: { id?: unknown } } } | null)?.payload?.compose?.id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Reads images.json (productmd 1.x or 2.0): every entry of payload.images[variant][arch][], in
 * document order. Relative paths and URLs are resolved against composeRoot (an http(s) URL or an
 * absolute path to the directory holding metadata/); absolute URLs, oci:// included, are kept.
 */
export function parseImages(json: unknown, file: string, composeRoot: string): ComposeImage[] {
  checkComposeRoot(composeRoot);
  return productmdMajor(json, file, 'productmd.images') === 1
    ? parseImagesV1(json, file, composeRoot)
    : parseImagesV2(json, file, composeRoot);
}

function parseImagesV1(json: unknown, file: string, composeRoot: string): ComposeImage[] {
  const { payload } = checkShape(imagesV1Shape, json, file);
  return eachEntry(payload.images, (entry, variant, where) => {
    const checksums = isRecord(entry.checksums) ? entry.checksums : {};
    const sha256 = typeof checksums.sha256 === 'string' ? checksums.sha256.toLowerCase() : undefined;
    const origin = imageOrigin(file, where, 'path');
    const location = resolveImageLocation(composeRoot, entry.path);
    return image(entry, variant, baseName(entry.path), location, entry.size, sha256, Object.keys(checksums), origin);
  });
}

function parseImagesV2(json: unknown, file: string, composeRoot: string): ComposeImage[] {
  const { payload } = checkShape(imagesV2Shape, json, file);
  return eachEntry(payload.images, (entry, variant, where) => {
    const { url, local_path: localPath, size, checksum } = entry.location;
    // productmd 2.0 checksums are "<algorithm>:<hex>", e.g. "sha256:…" or "sha512:…".
    const [algorithm, hex] = typeof checksum === 'string' && checksum.includes(':') ? checksum.split(':', 2) : [];
    const origin = imageOrigin(file, where, 'location', 'url');
    const location = resolveImageLocation(composeRoot, url);
    return image(
      entry,
      variant,
      baseName(localPath || url),
      location,
      size,
      algorithm === 'sha256' ? hex?.toLowerCase() : undefined,
      algorithm ? [algorithm] : [],
      origin,
    );
  });
}

type EntryFields = z.output<z.ZodObject<typeof entryFields>>;

function eachEntry<E>(
  images: Record<string, Record<string, E[]>>,
  read: (entry: E, variant: string, where: PropertyKey[]) => ComposeImage,
): ComposeImage[] {
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
  location: string | undefined,
  size: unknown,
  sha256: string | undefined,
  checksumAlgorithms: string[],
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
    checksumAlgorithms: [...checksumAlgorithms].sort(),
    origin,
  };
}

function imageOrigin(file: string, where: PropertyKey[], ...locationField: string[]): ImageOrigin {
  const jsonPath = formatJsonPath(where);
  return { file, jsonPath, locationPath: appendJsonPath(jsonPath, ...locationField) };
}

type ProductmdFileType = 'productmd.composeinfo' | 'productmd.images';

function productmdMajor(json: unknown, file: string, type: ProductmdFileType): ProductmdMajor {
  const { header } = checkShape(headerShape, json, file);
  if (header.type !== type) {
    throw malformedMetadata(
      file,
      'header.type',
      `is ${JSON.stringify(header.type.slice(0, 80))}, expected ${JSON.stringify(type)}: this is not the file it should be`,
    );
  }
  if (/^1\.\d+$/.test(header.version)) return 1;
  if (header.version === '2.0') return 2;
  throw malformedMetadata(
    file,
    'header.version',
    `is ${JSON.stringify(header.version)}, a productmd format this publisher does not read (it reads 1.x and 2.0)`,
    'publish a compose whose metadata is productmd 1.x or 2.0, or upgrade compose-publisher to a version that reads this format',
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
