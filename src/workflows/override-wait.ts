import { condition } from '@temporalio/workflow';
import { durationMs } from '../domain/duration.js';
import { policyOverride } from '../domain/override.js';
import { publishes, type PublishStatus, type RepositoryStatus } from '../domain/run-contract/index.js';
import { showDetails } from './decisions.js';
import type { Run } from './run.js';

/** Waits on a durable timer for an override; false when the wait runs out (the repository stays blocked). */
export async function awaitOverride(run: Run, current: RepositoryStatus): Promise<boolean> {
  const wait = durationMs(run.settings.waitForOverride);
  current.awaitingOverrideUntil = new Date(new Date().getTime() + wait).toISOString();
  updateWaitingPhase(run.status);
  const overridden = await condition(() => current.override !== undefined, wait);
  delete current.awaitingOverrideUntil;
  if (!overridden && run.settings.hybridOnWaitEnd?.includes(current.repository)) {
    current.override = policyOverride(current.repository, new Date().toISOString());
  } else if (!overridden) {
    current.waitEnded = true;
  }
  updateWaitingPhase(run.status);
  return current.override !== undefined;
}

export function updateWaitingPhase(status: PublishStatus): void {
  const waiting = status.repositories.some((r) => r.awaitingOverrideUntil !== undefined);
  const busy = status.repositories.some(
    (r) => r.awaitingOverrideUntil === undefined && publishes(r) && r.manifests.length === 0,
  );
  status.phase = waiting && !busy ? 'awaiting-override' : 'publishing-manifests';
  showDetails(status);
}
