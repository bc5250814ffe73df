import { proxyActivities } from '@temporalio/workflow';
import type { PublishActivities } from '../activities/index.js';
import { NON_RETRYABLE_FAILURE_TYPES } from '../domain/failure-types.js';

/** The activities of a publish run, each with the timeouts and retry policy its work needs. */
const NON_RETRYABLE = [...NON_RETRYABLE_FAILURE_TYPES];

export const { workerSettings, fetchCompose, inspectPublished } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

/**
 * Long activities heartbeat every 5 s (src/activities/heartbeat.ts), so a worker that dies is noticed this soon
 * and its activity retried on another worker: a crash costs seconds, not minutes.
 */
const HEARTBEAT_TIMEOUT = '20 seconds';

export const { prepareImage, pushArchImage, uploadArchImage } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

export const { pushManifest, tagArchImages } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: HEARTBEAT_TIMEOUT,
  retry: { initialInterval: '5s', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 8, nonRetryableErrorTypes: NON_RETRYABLE },
});

export const { notify } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 4, nonRetryableErrorTypes: NON_RETRYABLE },
});

export const { cleanup } = proxyActivities<PublishActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 3 },
});
