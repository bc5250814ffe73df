import { proxyActivities } from '@temporalio/workflow';
import type { PublishActivities } from '../activities/index.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../domain/failure-types.js';

/** The staleness report's own activity: many registry reads, so it heartbeats and gets a longer timeout. */
export const { assessStaleness } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '2 minutes',
  summary: "read every index and arch tag of this worker's registries and assess how stale each arch is",
  retry: {
    initialInterval: '5s',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...NON_RETRYABLE_FAILURE_TYPES],
  },
});
