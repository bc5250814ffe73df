import { Context } from '@temporalio/activity';

/** Heartbeats at most every `intervalMs` with the latest details, so long tools can report progress cheaply. */
export function throttledHeartbeat(intervalMs = 5_000): (details: unknown) => void {
  let last = 0;
  return (details) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    Context.current().heartbeat(details);
  };
}
