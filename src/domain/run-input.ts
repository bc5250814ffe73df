import { isFetchableLocation } from './compose-location.js';
import { MAX_COMPOSE_ID_LENGTH, parseComposeId } from './compose-id.js';
import { DomainError } from './errors.js';
import { hasControlCharacter } from './printable.js';
import type { RunRequest } from './run-contract/run-status.js';

const MAX_LOCATION_LENGTH = 2048;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Checks a run's input as it crossed the boundary: exactly a location and a compose id, both well-formed and
 * bounded. `now` (epoch ms) bounds the compose's date: a compose dated more than a day ahead is forged or
 * mistaken, and would pass for the newest of its release for years. Throws an InvalidInput DomainError.
 */
export function checkRunRequest(input: unknown, now: number): RunRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw invalid('the run input is not an object; it must be { "location": …, "composeId": … }');
  const extra = Object.keys(input).filter((key) => key !== 'location' && key !== 'composeId');
  if (extra.length > 0) {
    throw invalid(
      `the run input names ${extra.map((key) => JSON.stringify(key.slice(0, 40))).join(', ')}, which a run may not choose: registries, repositories, arches and tags come from the worker's own config. Start a run with { "location": …, "composeId": … } only (compose-publisher publish does)`,
    );
  }
  const { location, composeId } = input as Record<string, unknown>;
  if (
    typeof location !== 'string' ||
    location.length === 0 ||
    location.length > MAX_LOCATION_LENGTH ||
    hasControlCharacter(location)
  ) {
    throw invalid(`location must be a URL or path of at most ${MAX_LOCATION_LENGTH} printable characters`);
  }
  if (!isFetchableLocation(location))
    throw invalid(`location ${JSON.stringify(location.slice(0, 200))} is neither an http(s) URL nor an absolute path`);
  if (typeof composeId !== 'string')
    throw invalid(`composeId must be a compose id (a string of at most ${MAX_COMPOSE_ID_LENGTH} characters)`);
  checkComposeDate(composeId, now);
  return { location, composeId };
}

/** A compose id of productmd's shape whose date is at most a day after `now`. */
export function checkComposeDate(composeId: string, now: number): void {
  const { date } = parseComposeId(composeId, 'composeId');
  const composeDay = Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)));
  if (composeDay > now + DAY_MS) {
    throw new DomainError(
      'InvalidComposeId',
      `compose id ${composeId} is dated ${date}, more than a day after now (${new Date(now).toISOString().slice(0, 10)}): a compose cannot come from the future. Fix: check the compose id and the clocks`,
    );
  }
}

function invalid(message: string): DomainError {
  return new DomainError('InvalidInput', message);
}
