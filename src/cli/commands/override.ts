import { userInfo } from 'node:os';
import { overrideRun } from '../../client/publish-runs.js';
import { EXIT } from '../exit-codes.js';
import type { Config } from '../../config.js';
import type { OverrideMode } from '../../domain/override.js';
import { connectClient } from '../../client/connection.js';

export interface OverrideOptions {
  mode: OverrideMode;
  reason: string;
  operator?: string;
  repository?: string;
  json?: boolean;
}

/** `compose-publisher override <compose id>`: an operator's decision for a blocked repository, recorded with who and why. */
export async function runOverrideCommand(config: Config, composeId: string, options: OverrideOptions): Promise<number> {
  const client = await connectClient(config);
  try {
    const records = await overrideRun(client, composeId, {
      mode: options.mode,
      reason: options.reason,
      operator: options.operator ?? userInfo().username,
      ...(options.repository ? { repository: options.repository } : {}),
    });
    if (options.json) console.log(JSON.stringify(records, null, 2));
    else
      for (const r of records)
        console.log(`accepted: ${r.repository} → ${r.mode} by ${r.operator} at ${r.at}: ${r.reason}`);
    return EXIT.done;
  } finally {
    await client.connection.close();
  }
}
