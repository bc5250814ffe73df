import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { buildPlan } from '../domain/plan.js';
import { imagesComposeId, parseComposeInfo, parseImages } from '../domain/productmd.js';
import type { ComposeInfo, PublishPlan } from '../domain/types.js';
import type { PublishSettings } from '../domain/settings.js';
import { checkInsideCompose, isRemote, normalizeComposeLocation, readComposeFile } from './compose-source.js';
import { translatingFailures } from './failures.js';

export interface FetchComposeInput {
  location: string;
  settings: PublishSettings;
}

/** Reads composeinfo.json and images.json and turns them into the plan: repository → arch → image. */
export function fetchCompose(input: FetchComposeInput): Promise<PublishPlan> {
  return translatingFailures(`reading the compose at ${input.location}`, async () => {
    const signal = Context.current().cancellationSignal;
    const { root, info } = await locateCompose(input.location, signal);
    const imagesFile = `${root}/metadata/images.json`;
    const imagesJson = parseJson(await readComposeFile(root, 'metadata/images.json', signal), imagesFile);
    const listedId = imagesComposeId(imagesJson);
    if (listedId !== undefined && listedId !== info.composeId) {
      throw ApplicationFailure.nonRetryable(
        `${imagesFile}: payload.compose.id is ${JSON.stringify(listedId.slice(0, 100))}, but composeinfo.json says ${info.composeId}: the two files are of different composes`,
        'MalformedComposeMetadata',
      );
    }
    const plan = buildPlan({
      info,
      repositories: input.settings.repositories,
      architectures: input.settings.architectures,
      releases: input.settings.releases,
      ...(input.settings.images ? { selection: input.settings.images } : {}),
      images: parseImages(imagesJson, imagesFile, root),
    });
    if (!isRemote(root)) {
      for (const image of plan.repositories.flatMap((repository) => repository.images)) await checkInsideCompose(root, image.location).catch(ignoreMissing);
    }
    return plan;
  });
}

/** A missing image is reported by the step that reads it, with the entry named; here only escapes matter. */
function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}

/** A compose found: the directory that holds metadata/ (image paths are relative to it), and its composeinfo. */
export interface LocatedCompose {
  root: string;
  info: ComposeInfo;
}

/**
 * Finds the compose the way productmd does: `<location>/metadata/`, then `<location>/compose/metadata/`, so a
 * compose may be given by its top directory (what pungi-orchestrate announces) or by its compose/ directory.
 */
export async function locateCompose(location: string, signal?: AbortSignal): Promise<LocatedCompose> {
  const given = normalizeComposeLocation(location);
  try {
    return { root: given, info: await readComposeInfo(given, signal) };
  } catch (error) {
    if (!(error instanceof ApplicationFailure && error.type === 'ComposeNotFound')) throw error;
    const nested = `${given}/compose`;
    try {
      return { root: nested, info: await readComposeInfo(nested, signal) };
    } catch (nestedError) {
      if (!(nestedError instanceof ApplicationFailure && nestedError.type === 'ComposeNotFound')) throw nestedError;
      throw ApplicationFailure.nonRetryable(
        `no compose at ${location}: neither ${given}/metadata/composeinfo.json nor ${nested}/metadata/composeinfo.json exists. ` +
          `Fix: give the compose's top directory or its compose/ directory (the one that holds metadata/)`,
        'ComposeNotFound',
      );
    }
  }
}

export async function readComposeInfo(root: string, signal?: AbortSignal): Promise<ComposeInfo> {
  const file = `${root}/metadata/composeinfo.json`;
  return parseComposeInfo(parseJson(await readComposeFile(root, 'metadata/composeinfo.json', signal), file), file);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`${file} is not valid JSON (${(error as Error).message}); the compose metadata is damaged or incomplete`, 'MalformedComposeMetadata');
  }
}
