import type { Config } from '../../config.js';
import { connectClient } from '../../client/connection.js';
import { ensureSearchAttributes } from '../../client/search-attributes.js';
import { ensureStalenessSchedule, stalenessScheduleId } from '../../client/staleness.js';

/** `compose-publisher schedule`: creates or updates the Schedule of the staleness report. */
export async function runScheduleCommand(config: Config): Promise<number> {
  const client = await connectClient(config);
  try {
    await ensureSearchAttributes(client.connection, config.temporal.namespace, {
      create: config.temporal.create_search_attributes,
      what: 'schedule creates no Schedule whose reports could not finish (the first would hang, and with overlap SKIP every later one would be skipped)',
      log: (_level, message) => console.error(`compose-publisher: ${message}`),
    });
    const outcome = await ensureStalenessSchedule(client, config);
    console.log(
      `${outcome} Schedule ${stalenessScheduleId(config)}: reportStaleness every ${config.staleness.every} on task queue ${config.temporal.task_queue} (warn after ${config.staleness.warn_after})`,
    );
    return 0;
  } finally {
    await client.connection.close();
  }
}
