import { z } from 'zod';
import { isAllowedLocation, type AllowedLocations } from '../domain/allowed-location.js';
import { isFetchableLocation } from '../domain/compose-location.js';

/**
 * The only fields of Pungi's compose status message the listener uses. Pungi sends more (release_version,
 * compose_respin, …), whose types vary between Pungi versions and bridges: they are not checked.
 */
const statusChange = z.looseObject({
  compose_id: z.string().min(1),
  status: z.string().min(1),
  location: z.string().min(1).optional(),
});

/** The envelope of the old fedmsg-to-AMQP bridge and of datagrepper replays: the body is under "msg". */
const fedmsgEnvelope = z.looseObject({ topic: z.string(), msg: z.looseObject({}) });

export interface MessageFilter {
  /** Statuses that start a run, e.g. FINISHED and FINISHED_INCOMPLETE. */
  statuses: readonly string[];
  /** A compose id is wanted when any pattern matches; no patterns: every compose. */
  composeIdPatterns: readonly RegExp[];
  /** Location prefixes ([compose] allowed_locations) and their key: a message naming any other location is dead-lettered. */
  allowedLocations: AllowedLocations;
}

export type MessageVerdict =
  | { kind: 'invalid'; reason: string; composeId?: string }
  | { kind: 'ignored'; reason: string; composeId: string }
  | { kind: 'wanted'; composeId: string; location: string; status: string };

/** What a delivery asks of us: a compose to publish, something to ignore (ack), or a broken message (dead-letter). */
export function readStatusMessage(body: Buffer, filter: MessageFilter): MessageVerdict {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return { kind: 'invalid', reason: `body is not JSON (${(error as Error).message})` };
  }
  const envelope = fedmsgEnvelope.safeParse(json);
  const parsed = statusChange.safeParse(
    envelope.success && !isRecordWith(json, 'compose_id') ? envelope.data.msg : json,
  );
  if (!parsed.success) return { kind: 'invalid', reason: describeProblems(parsed.error) };
  const { compose_id: composeId, status, location } = parsed.data;
  if (!filter.statuses.includes(status)) {
    return {
      kind: 'ignored',
      composeId,
      reason: `status ${status} is not one of ${filter.statuses.join(', ')} ([amqp].statuses)`,
    };
  }
  if (filter.composeIdPatterns.length > 0 && !filter.composeIdPatterns.some((pattern) => pattern.test(composeId))) {
    return { kind: 'ignored', composeId, reason: `compose id matches none of [amqp].compose_id_patterns` };
  }
  if (location === undefined)
    return { kind: 'invalid', composeId, reason: 'location: missing (the compose top directory URL)' };
  if (!isFetchableLocation(location)) {
    return {
      kind: 'invalid',
      composeId,
      reason: `location ${JSON.stringify(location.slice(0, 200))} is neither an http(s) URL nor an absolute path`,
    };
  }
  const { prefixes, key } = filter.allowedLocations;
  if (!isAllowedLocation(location, prefixes)) {
    return {
      kind: 'invalid',
      composeId,
      reason: `location ${JSON.stringify(location.slice(0, 200))} is not under any of ${key} (${prefixes.join(', ')})`,
    };
  }
  return { kind: 'wanted', composeId, location, status };
}

function isRecordWith(value: unknown, key: string): boolean {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key);
}

function describeProblems(error: z.ZodError): string {
  if (error.issues.some((issue) => issue.path.length === 0)) return 'body is not a JSON object';
  return error.issues
    .map(
      (issue) =>
        `${issue.path.join('.')}: ${issue.code === 'invalid_type' && issue.input === undefined ? 'missing' : issue.message}`,
    )
    .join('; ');
}
