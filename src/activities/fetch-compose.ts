import { Context } from '@temporalio/activity';
import { checkInsideCompose, isRemote } from '../compose/compose-files.js';
import { readCompose } from '../compose/read-compose.js';
import { checkAllowedLocation } from '../domain/allowed-location.js';
import { buildPlan } from '../domain/plan.js';
import type { PublishSettings } from '../domain/settings.js';
import type { PublishPlan } from '../domain/types.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';

export interface FetchComposeInput {
  location: string;
  settings: PublishSettings;
}

/**
 * Reads composeinfo.json and images.json and turns them into the plan: repository → arch → image. The first step
 * that touches the compose: a location outside the worker's [compose] allowed_locations is refused here before
 * anything is requested (UntrustedInput), and so is a plan whose images lie outside them.
 */
export function makeFetchCompose(environment: Pick<ActivityEnvironment, 'allowedLocations'>) {
  const allowed = environment.allowedLocations;
  return function fetchCompose(input: FetchComposeInput): Promise<PublishPlan> {
    return translatingFailures(`reading the compose at ${input.location}`, async () => {
      const { root, info, images } = await readCompose(input.location, {
        signal: Context.current().cancellationSignal,
        allowed,
      });
      const plan = buildPlan({
        info,
        images,
        repositories: input.settings.repositories,
        architectures: input.settings.architectures,
        releases: input.settings.releases,
        ...(input.settings.images ? { selection: input.settings.images } : {}),
      });
      const planned = plan.repositories.flatMap((repository) => repository.images);
      for (const image of planned)
        checkAllowedLocation(image.location, allowed, {
          what: `the ${image.fileName} image that images.json lists at`,
        });
      if (!isRemote(root)) {
        for (const image of planned) await checkInsideCompose(root, image.location).catch(ignoreMissing);
      }
      return allowed ? plan : { ...plan, locationUnchecked: true };
    });
  };
}

/** A missing image is reported by the step that reads it, with the entry named; here only escapes matter. */
function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
