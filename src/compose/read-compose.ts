import { checkAllowedLocation } from '../domain/allowed-location.js';
import { DomainError } from '../domain/errors.js';
import { imagesComposeId, parseComposeInfo, parseImages } from '../domain/productmd.js';
import type { ComposeImage, ComposeInfo } from '../domain/types.js';
import { normalizeComposeLocation, readComposeFile, type ComposeRead } from './compose-files.js';

/** A compose found: the directory that holds metadata/ (image paths are relative to it), and its composeinfo. */
export interface LocatedCompose {
  root: string;
  info: ComposeInfo;
}

/**
 * Finds the compose the way productmd does: `<location>/metadata/`, then `<location>/compose/metadata/`, so a
 * compose may be given by its top directory (what pungi-orchestrate announces) or by its compose/ directory. A
 * location outside `read.allowed` is refused (UntrustedInput) before anything is read.
 */
export async function locateCompose(location: string, read: ComposeRead = {}): Promise<LocatedCompose> {
  const given = normalizeComposeLocation(location);
  checkAllowedLocation(given, read.allowed);
  try {
    return { root: given, info: await readComposeInfo(given, read) };
  } catch (error) {
    if (!isComposeNotFound(error)) throw error;
    const nested = `${given}/compose`;
    try {
      return { root: nested, info: await readComposeInfo(nested, read) };
    } catch (nestedError) {
      if (!isComposeNotFound(nestedError)) throw nestedError;
      throw new DomainError(
        'ComposeNotFound',
        `no compose at ${location}: neither ${given}/metadata/composeinfo.json nor ${nested}/metadata/composeinfo.json exists. ` +
          `Fix: give the compose's top directory or its compose/ directory (the one that holds metadata/)`,
      );
    }
  }
}

/** A compose's metadata: where it is, composeinfo.json, and every images.json entry (both files of the same compose). */
export async function readCompose(
  location: string,
  read: ComposeRead = {},
): Promise<LocatedCompose & { images: ComposeImage[] }> {
  const { root, info } = await locateCompose(location, read);
  const imagesFile = `${root}/metadata/images.json`;
  const imagesJson = parseJson(await readComposeFile(root, 'metadata/images.json', read), imagesFile);
  const listedId = imagesComposeId(imagesJson);
  if (listedId !== undefined && listedId !== info.composeId) {
    throw new DomainError(
      'MalformedComposeMetadata',
      `${imagesFile}: payload.compose.id is ${JSON.stringify(listedId.slice(0, 100))}, but composeinfo.json says ${info.composeId}: the two files are of different composes`,
    );
  }
  return { root, info, images: parseImages(imagesJson, imagesFile, root) };
}

export async function readComposeInfo(root: string, read: ComposeRead = {}): Promise<ComposeInfo> {
  const file = `${root}/metadata/composeinfo.json`;
  return parseComposeInfo(parseJson(await readComposeFile(root, 'metadata/composeinfo.json', read), file), file);
}

function isComposeNotFound(error: unknown): boolean {
  return error instanceof DomainError && error.type === 'ComposeNotFound';
}

/** A metadata file's JSON; a file that is not JSON is damaged, for good. */
function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DomainError(
      'MalformedComposeMetadata',
      `${file} is not valid JSON (${(error as Error).message}); the compose metadata is damaged or incomplete`,
    );
  }
}
