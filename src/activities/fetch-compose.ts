import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { buildPlan } from '../domain/plan.js';
import { parseComposeInfo, parseImages } from '../domain/productmd.js';
import type { ComposeInfo, PublishPlan } from '../domain/types.js';
import type { PublishSettings } from '../domain/settings.js';
import { readComposeFile } from './compose-source.js';
import { translatingFailures } from './failures.js';

export interface FetchComposeInput {
  location: string;
  settings: PublishSettings;
}

/** Reads composeinfo.json and images.json and turns them into the plan: repository → arch → image. */
export function fetchCompose(input: FetchComposeInput): Promise<PublishPlan> {
  return translatingFailures(`reading the compose at ${input.location}`, async () => {
    const signal = Context.current().cancellationSignal;
    const info = await readComposeInfo(input.location, signal);
    const imagesFile = 'metadata/images.json';
    const images = parseImages(parseJson(await readComposeFile(input.location, imagesFile, signal), `${input.location}/${imagesFile}`), `${input.location}/${imagesFile}`, input.location);
    return buildPlan({
      info,
      images,
      repositories: input.settings.repositories,
      architectures: input.settings.architectures,
      releases: input.settings.releases,
    });
  });
}

export async function readComposeInfo(location: string, signal?: AbortSignal): Promise<ComposeInfo> {
  const file = `${location}/metadata/composeinfo.json`;
  return parseComposeInfo(parseJson(await readComposeFile(location, 'metadata/composeinfo.json', signal), file), file);
}

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw ApplicationFailure.nonRetryable(`${file} is not valid JSON (${(error as Error).message}); the compose metadata is damaged or incomplete`, 'MalformedComposeMetadata');
  }
}
