import { proxyActivities, sleep } from '@temporalio/workflow';
import { limiter } from '../../src/workflows/limiter.js';
import type * as activities from './harness-activities.js';

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });

/** The smallest real workflow: proves a worker can run workflow and activity code on the harness's server. */
export async function harnessEcho(name: string): Promise<string> {
  return await greet(name);
}

/** The most bodies `limiter(limit)` ever let run at once, out of `bodies` that each hold a timer. */
export async function limiterProbe(limit: number, bodies: number): Promise<number> {
  const limit_ = limiter(limit);
  let active = 0;
  let most = 0;
  await Promise.all(
    Array.from({ length: bodies }, (_, i) =>
      limit_(async () => {
        active++;
        most = Math.max(most, active);
        await sleep(10 + (i % 3) * 10);
        active--;
      }),
    ),
  );
  return most;
}
