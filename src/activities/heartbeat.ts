import { Context } from '@temporalio/activity';

/**
 * How often a long activity heartbeats, whatever its tools print (a silent xz or a single large blob upload
 * included). With the workflow's heartbeat timeout of HEARTBEAT_TIMEOUT, a worker that dies is noticed, and its
 * activity retried elsewhere, within that timeout rather than minutes later.
 */
export const HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * Runs `body` while heartbeating every HEARTBEAT_INTERVAL_MS with the latest progress `body` reported, so the
 * heartbeat shows where the activity is (and cancellation reaches it) even while nothing happens for a while.
 */
export async function withHeartbeats<T>(body: (report: (progress: unknown) => void) => Promise<T>): Promise<T> {
  const context = Context.current();
  let progress: unknown;
  const timer = setInterval(() => context.heartbeat(progress), HEARTBEAT_INTERVAL_MS);
  try {
    return await body((latest) => {
      progress = latest;
    });
  } finally {
    clearInterval(timer);
  }
}
