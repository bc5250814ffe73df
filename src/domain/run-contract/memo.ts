// What runs keep in their memo, for readers that list runs without querying them (`status` of a closed run, the
// staleness report): one encoder and one decoder per record. The decoders trust nothing: a memo is whatever the
// run (of whichever version) wrote.
import type { OverrideRecord } from '../override.js';
import type { StalenessReport } from '../staleness.js';
import type { GateDecisionKind, OciArch } from '../types.js';
import type { DigestSignature, PublishStatus } from './run-status.js';

/** The memo key of a publish run's decisions ("gate", from before they were called decisions). */
const DECISIONS_KEY = 'gate';
/** The memo key of a staleness report's findings. */
const REPORT_KEY = 'report';

/** A repository's decision and what it was made on, as a run records it. */
export interface DecisionRecord {
  repository: string;
  decision: GateDecisionKind;
  built: OciArch[];
  published: OciArch[];
  missing: OciArch[];
  override?: OverrideRecord;
  dropped?: OciArch[];
  skipped?: string[];
  error?: string;
  signatures?: DigestSignature[];
}

export function decisionRecords(status: PublishStatus): DecisionRecord[] {
  return status.repositories.map(
    ({ repository, decision, built, published, missing, override, dropped, skipped, error, signatures }) => ({
      repository,
      decision,
      built,
      published,
      missing,
      ...(override ? { override } : {}),
      ...(dropped ? { dropped } : {}),
      ...(skipped ? { skipped } : {}),
      ...(error ? { error } : {}),
      ...(signatures?.length ? { signatures } : {}),
    }),
  );
}

export function decisionsMemo(records: DecisionRecord[]): Record<string, unknown> {
  return { [DECISIONS_KEY]: records };
}

/** The decisions in a run's memo; entries without a repository and a decision are left out. */
export function decisionsOfMemo(memo: Readonly<Record<string, unknown>> | undefined): DecisionRecord[] {
  const entries: unknown = memo?.[DECISIONS_KEY];
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((entry: unknown): DecisionRecord[] => {
    if (typeof entry !== 'object' || entry === null) return [];
    const record = entry as Record<string, unknown>;
    if (typeof record.repository !== 'string' || typeof record.decision !== 'string') return [];
    return [
      {
        ...(record as Partial<DecisionRecord>),
        repository: record.repository,
        decision: record.decision as GateDecisionKind,
        built: strings(record.built),
        published: strings(record.published),
        missing: strings(record.missing),
      },
    ];
  });
}

export function reportMemo(report: StalenessReport): Record<string, unknown> {
  return {
    [REPORT_KEY]: {
      at: report.at,
      warnAfter: report.warnAfter,
      stale: report.rows.filter((row) => row.stale),
      staleRepositories: report.staleRepositories,
      overThreshold: report.overThreshold,
    },
  };
}

/** The crossing keys a report's memo says were over warn_after, or undefined when it has none. */
export function overThresholdOfMemo(memo: Readonly<Record<string, unknown>> | undefined): string[] | undefined {
  const report: unknown = memo?.[REPORT_KEY];
  const keys: unknown =
    typeof report === 'object' && report !== null ? (report as Record<string, unknown>).overThreshold : undefined;
  return Array.isArray(keys) ? strings(keys) : undefined;
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}
