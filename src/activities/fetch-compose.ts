import { Context } from '@temporalio/activity';
import { checkInsideCompose, isRemote } from '../compose/compose-files.js';
import { readCompose } from '../compose/read-compose.js';
import { buildPlan } from '../domain/plan.js';
import type { PublishSettings } from '../domain/settings.js';
import type { PublishPlan } from '../domain/types.js';
import { translatingFailures } from './failures.js';

export interface FetchComposeInput {
  location: string;
  settings: PublishSettings;
}

/** Reads composeinfo.json and images.json and turns them into the plan: repository → arch → image. */
export function fetchCompose(input: FetchComposeInput): Promise<PublishPlan> {
  return translatingFailures(`reading the compose at ${input.location}`, async () => {
    const { root, info, images } = await readCompose(input.location, Context.current().cancellationSignal);
    const plan = buildPlan({
      info,
      images,
      repositories: input.settings.repositories,
      architectures: input.settings.architectures,
      releases: input.settings.releases,
      ...(input.settings.images ? { selection: input.settings.images } : {}),
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
