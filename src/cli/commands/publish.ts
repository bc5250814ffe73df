import { readComposeToPublish, startRunForCompose, waitForRun } from '../../client/publish-runs.js';
import { exitCodeFor, EXIT } from '../exit-codes.js';
import { formatStatus } from '../format-status.js';
import type { Config } from '../../config.js';
import { connectClient } from '../../client/connection.js';

export interface PublishOptions {
  wait?: boolean;
  json?: boolean;
}

/** `compose-publisher publish <location>`: starts (or finds) the run; with --wait, reports how it ended. */
export async function runPublishCommand(config: Config, location: string, options: PublishOptions): Promise<number> {
  const compose = await readComposeToPublish(config, location);
  const client = await connectClient(config);
  try {
    const run = await startRunForCompose(client, config, compose.root, compose.composeId);
    if (!options.wait) {
      if (options.json)
        console.log(JSON.stringify({ composeId: run.composeId, workflowId: run.workflowId, started: run.started }));
      else console.log(`${run.started ? 'started' : 'already exists, not started again:'} ${run.workflowId}`);
      return EXIT.done;
    }
    if (!options.json) console.error(`${run.started ? 'started' : 'waiting for the existing run'} ${run.workflowId} …`);
    const status = await waitForRun(run.handle, run.composeId, {
      onNoWorker: (taskQueue) =>
        console.error(
          `no worker polls task queue ${taskQueue}: the run waits until one does; start one with \`compose-publisher worker\` (still waiting …)`,
        ),
    });
    console.log(options.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    return exitCodeFor(status);
  } finally {
    await client.connection.close();
  }
}
