import { ApplicationFailure, setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { StalenessReport } from '../domain/staleness.js';
import { staleNotification } from '../domain/notification.js';
import { crossingKey } from '../domain/staleness.js';
import { renderStalenessDetails } from '../domain/staleness-details.js';
import { reportMemo, STALE_REPOSITORIES } from '../domain/run-contract/index.js';
import { notify, workerSettings } from './activities.js';
import { assessStaleness } from './staleness-activities.js';
import type { FailureType } from '../domain/failure-types.js';

/**
 * How stale each published arch is, on this worker's registries (run every [staleness] every by a Schedule, or
 * by `compose-publisher report`). Announces each arch that crossed [staleness] warn_after once per crossing; keeps
 * the stale rows in its memo and the stale repositories in a search attribute. Takes no input.
 */
export async function reportStaleness(input?: unknown): Promise<StalenessReport> {
  if (input !== undefined && input !== null && !(typeof input === 'object' && Object.keys(input).length === 0)) {
    throw ApplicationFailure.nonRetryable(
      "reportStaleness takes no input: it reports on the worker's own registries and repositories",
      'InvalidInput' satisfies FailureType,
    );
  }
  const settings = await workerSettings();
  const report = await assessStaleness();
  const notifications = settings.notifications;
  if (notifications) {
    for (const row of report.newCrossings) {
      // One id per crossing: a repeated delivery, or a report run twice, is one message to consumers.
      await notify({
        exchange: notifications.exchange,
        notification: staleNotification(notifications.topicPrefix, row),
        messageId: `stale:${crossingKey(row)}`,
      });
    }
  }
  upsertMemo(reportMemo(report));
  upsertSearchAttributes([{ key: STALE_REPOSITORIES, value: report.staleRepositories }]);
  setCurrentDetails(renderStalenessDetails(report.rows, report.waiting, report.at));
  return report;
}
