import { DomainError } from './errors.js';

export type ComposeType = 'production' | 'nightly' | 'test' | 'ci' | 'development';

export interface ParsedComposeId {
  id: string;
  /** Everything before the date, e.g. "Fedora-40", "Fedora-Rawhide", "Fedora-40-updates". */
  release: string;
  /** YYYYMMDD */
  date: string;
  type: ComposeType;
  respin: number;
}

// productmd: <release>-<YYYYMMDD><type suffix>.<respin>, suffixes "" (production) / .n / .t / .ci / .d; layered
// products put their base product in the release part: Fedora-Container-40-Fedora-40-20240501.n.0.
// The release part is letters, digits, dots, dashes and underscores only: an id goes into annotations and messages,
// where a quote or a comma would split a tool's argument (buildah splits --annotation on commas).
const COMPOSE_ID =
  /^(?<release>[A-Za-z0-9][A-Za-z0-9._-]*)-(?<date>\d{8})(?:\.(?<label>n|t|ci|d))?\.(?<respin>\d{1,9})$/;
/** Longer than any real id (Fedora-Container-40-Fedora-40-20240501.n.0 is 42). */
export const MAX_COMPOSE_ID_LENGTH = 100;
const TYPE_BY_LABEL: Record<string, ComposeType> = { n: 'nightly', t: 'test', ci: 'ci', d: 'development' };
const EXPECTED_SHAPE =
  '<release>-<YYYYMMDD>[.n|.t|.ci|.d].<respin>, e.g. Fedora-40-20240501.n.0 or Fedora-40-20240414.0';

/** Parses a compose id, or returns undefined when it does not have the productmd shape. */
export function tryParseComposeId(id: string): ParsedComposeId | undefined {
  if (typeof id !== 'string' || id.length > MAX_COMPOSE_ID_LENGTH) return undefined;
  const groups = COMPOSE_ID.exec(id)?.groups;
  if (!groups?.release || !groups.date || !groups.respin || !isCalendarDate(groups.date)) return undefined;
  return {
    id,
    release: groups.release,
    date: groups.date,
    type: groups.label ? (TYPE_BY_LABEL[groups.label] ?? 'production') : 'production',
    respin: Number(groups.respin),
  };
}

/**
 * Parses a compose id; throws an InvalidComposeId DomainError showing the expected shape.
 * `source` names where the id came from, e.g. "metadata/composeinfo.json: payload.compose.id".
 */
export function parseComposeId(id: string, source = 'The compose id'): ParsedComposeId {
  const parsed = tryParseComposeId(id);
  if (!parsed) {
    throw new DomainError(
      'InvalidComposeId',
      `${source} ${JSON.stringify(String(id).slice(0, MAX_COMPOSE_ID_LENGTH))}${String(id).length > MAX_COMPOSE_ID_LENGTH ? '…' : ''} is not a compose id: expected ${EXPECTED_SHAPE}, at most ${MAX_COMPOSE_ID_LENGTH} characters of letters, digits, ".", "_" and "-". Fix: use the id exactly as the compose gives it (payload.compose.id in metadata/composeinfo.json)`,
    );
  }
  return parsed;
}

/**
 * Orders compose ids by date, then respin; the type label (nightly, production…) does not count, so
 * different ids of the same date and respin compare equal (0). Throws on an id that does not parse.
 */
export function compareComposeIds(a: string | ParsedComposeId, b: string | ParsedComposeId): number {
  const left = typeof a === 'string' ? parseComposeId(a) : a;
  const right = typeof b === 'string' ? parseComposeId(b) : b;
  if (left.date !== right.date) return left.date < right.date ? -1 : 1;
  return Math.sign(left.respin - right.respin);
}

/**
 * Orders composes that may belong to different releases, as on a tag two releases share (`latest` when it moves
 * from 41 to 42): a higher release of the same product is newer whatever the dates, so a late update compose of
 * 41 never takes `latest` back from 42. Otherwise (same release, or releases that do not end in a number, such
 * as Rawhide) by date, then respin, as compareComposeIds.
 */
export function compareComposesAcrossReleases(a: ParsedComposeId, b: ParsedComposeId): number {
  // Releases of one product differ only in their numbers: Fedora-41 / Fedora-42, and, for layered products,
  // Fedora-Container-41-Fedora-41 / Fedora-Container-42-Fedora-42.
  if (a.release !== b.release && a.release.replace(/\d+/g, '#') === b.release.replace(/\d+/g, '#')) {
    const left = a.release.match(/\d+/g) ?? [];
    const right = b.release.match(/\d+/g) ?? [];
    for (let i = 0; i < left.length; i++) {
      const difference = Number(left[i]) - Number(right[i]);
      if (difference !== 0) return Math.sign(difference);
    }
  }
  return compareComposeIds(a, b);
}

/** True when compose `a` is strictly newer than compose `b`. */
export function isComposeIdNewer(a: string | ParsedComposeId, b: string | ParsedComposeId): boolean {
  return compareComposeIds(a, b) > 0;
}

function isCalendarDate(yyyymmdd: string): boolean {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1] ?? 0;
  return day <= days;
}
