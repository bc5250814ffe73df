import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { buildPlan } from '../domain/plan.js';
import { parseComposeInfo, parseImages } from '../domain/productmd.js';
import type { ComposeInfo, PublishPlan } from '../domain/types.js';
import type { PublishSettings } from '../domain/settings.js';
import { normalizeComposeLocation, readComposeFile } from './compose-source.js';
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
    const images = parseImages(parseJson(await readComposeFile(root, 'metadata/images.json', signal), imagesFile), imagesFile, root);
    return buildPlan({
      info,
      images,
      repositories: input.settings.repositories,
      architectures: input.settings.architectures,
      releases: input.settings.releases,
      ...(input.settings.images ? { selection: input.settings.images } : {}),
    });
  });
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
