import { readRunStatus } from '../../client/publish-runs.js';
import { exitCodeFor } from '../exit-codes.js';
import { formatStatus } from '../format-status.js';
import type { Config } from '../../config.js';
import { connectClient } from '../../client/connection.js';

/** `compose-publisher status <compose id>`: the run's phase and per-repository decisions. */
export async function runStatusCommand(
  config: Config,
  composeId: string,
  options: { json?: boolean },
): Promise<number> {
  const client = await connectClient(config);
  try {
    const status = await readRunStatus(client, composeId);
    console.log(options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return exitCodeFor(status);
  } finally {
    await client.connection.close();
  }
}
