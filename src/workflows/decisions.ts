import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { decideGate } from '../domain/gate.js';
import { renderRunDetails } from '../domain/run-details.js';
import type { PublishedTag, RepositoryPlan } from '../domain/types.js';
import {
  decisionRecords,
  decisionsMemo,
  GATE_DECISION,
  type PublishStatus,
  type RepositoryStatus,
} from '../domain/run-contract/index.js';
import { inspectPublished } from './activities.js';
import type { Run } from './run.js';

// The gate's decisions: what the registries hold, what the gate makes of it, and where the decisions are recorded.

/** What every registry holds at the manifest tags of `repositories` (and the digest at each of `archTags`). */
export function inspect(
  run: Pick<Run, 'settings' | 'plan'>,
  repositories: RepositoryPlan[],
  archTags: string[] = [],
): Promise<PublishedTag[]> {
  return inspectPublished({
    registries: run.settings.registries,
    repositories: repositories.map((repository) => repository.repository),
    tags: run.plan.manifestTags,
    ...(archTags.length > 0 ? { digestOnlyTags: archTags } : {}),
  });
}

export function gate(run: Run, repository: RepositoryPlan, published: PublishedTag[]): RepositoryStatus {
  const built = Object.fromEntries(repository.images.map((image) => [image.ociArch, run.digests.get(image.sha256)]));
  const decision = decideGate({
    repository: repository.repository,
    composeId: run.input.composeId,
    built,
    published: published.filter((manifest) => manifest.repository === repository.repository),
    acrossReleases: run.acrossReleases,
  });
  return { ...decision, pushed: [], manifests: [], ...(repository.skipped ? { skipped: repository.skipped } : {}) };
}

/** The decision and its inputs go into history (memo) and the visibility store (search attributes). */
export function recordDecisions(status: PublishStatus): void {
  const decisions = decisionRecords(status);
  upsertMemo(decisionsMemo(decisions));
  upsertSearchAttributes([{ key: GATE_DECISION, value: [...new Set(decisions.map((d) => d.decision))].sort() }]);
  showDetails(status);
}

/** The run's current details in the Temporal UI (no command: read through the metadata query, free on replay). */
export function showDetails(status: PublishStatus): void {
  setCurrentDetails(renderRunDetails(status));
}

/** recordDecisions, only when a decision or its inputs changed since the run last recorded them. */
export function recordDecisionChanges(run: Run): void {
  const snapshot = JSON.stringify(decisionRecords(run.status));
  showDetails(run.status);
  if (snapshot === run.recorded) return;
  run.recorded = snapshot;
  recordDecisions(run.status);
}
