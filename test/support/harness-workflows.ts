import { proxyActivities } from '@temporalio/workflow';
import type * as activities from './harness-activities.js';

const { greet } = proxyActivities<typeof activities>({ startToCloseTimeout: '10 seconds' });

/** The smallest real workflow: proves a worker can run workflow and activity code on the harness's server. */
export async function harnessEcho(name: string): Promise<string> {
  return await greet(name);
}
