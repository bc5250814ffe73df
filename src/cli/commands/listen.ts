import { ConfigError, configWarnings, type Config } from '../../config.js';
import type { LogLevel } from '@temporalio/common';
import { startListener } from '../../listener/listener.js';
import { leveledLog } from '../../listener/log.js';
import { JsonLogger } from '../../observability/json-logger.js';
import { connectClient } from '../../client/connection.js';

/**
 * `compose-publisher listen`: consumes Pungi's compose status messages and starts a run per wanted compose,
 * logging one JSON line per message; until SIGINT/SIGTERM, or a broker refusal that needs a config change.
 */
export async function runListenCommand(config: Config, logLevel: LogLevel = 'INFO'): Promise<void> {
  if (!config.amqp) {
    throw new ConfigError(
      `${config.source}: no [amqp] table; \`listen\` needs one with at least url = "amqp://user:password@host:5672/%2F"`,
    );
  }
  const logger = new JsonLogger(logLevel);
  for (const warning of configWarnings(config)) logger.warn(warning);
  const client = await connectClient(config);
  const listener = startListener({ client, config, log: leveledLog(logger) });
  const stop = () => void listener.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await listener.done;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await listener.stop();
    await client.connection.close();
  }
}
