import { compareComposeIds, tryParseComposeId } from './compose-id.js';
import type { GateDecisionKind, OciArch } from './types.js';

/** One index tag on one registry, as inspected: each arch's image and the compose its annotation names. */
export interface ServedIndex {
  registry: string;
  repository: string;
  tag: string;
  instances: Array<{ arch: OciArch; digest: string; composeId?: string }>;
}

/** An arch tag (e.g. 40-aarch64) on one registry and the digest it holds now. */
export interface ArchTagHeld {
  registry: string;
  repository: string;
  arch: OciArch;
  digest: string;
}

/** What one publish run decided for one repository (from its memo). */
export interface RunOutcome {
  composeId: string;
  repository: string;
  decision: GateDecisionKind;
  built: OciArch[];
}

export interface StalenessRow {
  repository: string;
  registry: string;
  tag: string;
  arch: OciArch;
  /** The compose the index serves this arch from; undefined when its annotation is missing or not a compose id. */
  servedComposeId?: string;
  /** The newest compose of the same release any arch of this repository was published from (arch tags included). */
  newestComposeId?: string;
  /** Composes of that release, newer than the served one, that published some arch of this repository. */
  composesBehind: number;
  /** Days between the served compose's date and the newest's (from the ids). */
  lagDays: number;
  /** The arch tag holds an image other than the index's: it moved on without the index. */
  archTagMovedOn: boolean;
  /** Behind by at least one compose. */
  stale: boolean;
  /** Lags by warn_after or more: announced once per crossing. */
  overThreshold: boolean;
}

/** A blocked run still waiting for an operator: the fix a stale row points to. */
export interface WaitingRun {
  workflowId: string;
  composeId: string;
  repositories: string[];
}

export interface StalenessReport {
  /** When the registries were read (ISO 8601). */
  at: string;
  warnAfter: string;
  rows: StalenessRow[];
  staleRepositories: string[];
  /** Crossing keys over warn_after now: the next report announces only crossings not in here. */
  overThreshold: string[];
  /** Rows over warn_after that the previous report had not announced. */
  newCrossings: StalenessRow[];
  waiting: WaitingRun[];
}

/** Decisions under which a run wrote something of the repository (arch tags at least). */
const WROTE = new Set<GateDecisionKind>(['pass', 'overridden', 'blocked']);

const DAY_MS = 86_400_000;

/**
 * Per index tag, registry and arch: how far the image the index serves lags the newest compose of its release that
 * published any arch of the repository. Stale rows first, the most composes behind first.
 */
export function computeStaleness(input: {
  indexes: ServedIndex[];
  archTags: ArchTagHeld[];
  runs: RunOutcome[];
  warnAfterMs: number;
}): StalenessRow[] {
  const rows: StalenessRow[] = [];
  for (const index of input.indexes) {
    for (const instance of index.instances) {
      const served = instance.composeId === undefined ? undefined : tryParseComposeId(instance.composeId);
      const releaseRuns = input.runs.filter(
        (run) =>
          run.repository === index.repository &&
          WROTE.has(run.decision) &&
          run.built.length > 0 &&
          sameRelease(run.composeId, served?.release),
      );
      const known = new Set([
        ...releaseRuns.map((run) => run.composeId),
        ...index.instances.flatMap((i) =>
          i.composeId && sameRelease(i.composeId, served?.release) ? [i.composeId] : [],
        ),
      ]);
      const ordered = [...known].filter((id) => tryParseComposeId(id)).sort(compareComposeIds);
      const newest = ordered.at(-1);
      const behind = served ? ordered.filter((id) => compareComposeIds(id, served) > 0).length : 0;
      const lagDays = served && newest ? Math.max(0, daysBetween(served.date, tryParseComposeId(newest)!.date)) : 0;
      const archTag = input.archTags.find(
        (held) =>
          held.registry === index.registry && held.repository === index.repository && held.arch === instance.arch,
      );
      rows.push({
        repository: index.repository,
        registry: index.registry,
        tag: index.tag,
        arch: instance.arch,
        ...(served ? { servedComposeId: served.id } : {}),
        ...(newest ? { newestComposeId: newest } : {}),
        composesBehind: behind,
        lagDays,
        archTagMovedOn: archTag !== undefined && archTag.digest !== instance.digest,
        stale: behind > 0,
        overThreshold: behind > 0 && lagDays * DAY_MS >= input.warnAfterMs,
      });
    }
  }
  return rows.sort(
    (a, b) =>
      Number(b.stale) - Number(a.stale) ||
      b.composesBehind - a.composesBehind ||
      a.repository.localeCompare(b.repository) ||
      a.tag.localeCompare(b.tag) ||
      a.registry.localeCompare(b.registry) ||
      a.arch.localeCompare(b.arch),
  );
}

/** The key of one crossing of warn_after: the same arch lagging from the same served compose is announced once. */
export function crossingKey(row: StalenessRow): string {
  return `${row.registry}/${row.repository}:${row.tag}/${row.arch}@${row.servedComposeId ?? '?'}`;
}

/** Rows over the threshold now whose crossing the previous report had not announced. */
export function newCrossings(rows: StalenessRow[], announcedBefore: readonly string[]): StalenessRow[] {
  const before = new Set(announcedBefore);
  return rows.filter((row) => row.overThreshold && !before.has(crossingKey(row)));
}

/** The repositories with a stale arch on some tag and registry, sorted (the StaleRepositories search attribute). */
export function staleRepositories(rows: StalenessRow[]): string[] {
  return [...new Set(rows.filter((row) => row.stale).map((row) => row.repository))].sort();
}

function sameRelease(composeId: string, release: string | undefined): boolean {
  return release !== undefined && tryParseComposeId(composeId)?.release === release;
}

function daysBetween(from: string, to: string): number {
  const day = (date: string) =>
    Date.UTC(Number(date.slice(0, 4)), Number(date.slice(4, 6)) - 1, Number(date.slice(6, 8)));
  return Math.round((day(to) - day(from)) / DAY_MS);
}
