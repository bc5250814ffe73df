import { resolve } from 'node:path';
import { NativeConnection, Runtime } from '@temporalio/worker';
import type { LogLevel } from '@temporalio/common';
import { WorkDirInUse } from '../../activities/work-dir-lock.js';
import { checkSigningKey, SigningKeyError, type SigningKey } from '../../activities/signing-key.js';
import {
  allowedLocations,
  brokerSettings,
  ConfigError,
  configWarnings,
  publishSettings,
  signingSettings,
  type Config,
} from '../../config.js';
import { ALLOWED_LOCATIONS_KEY } from '../../domain/allowed-location.js';
import { durationMs } from '../../domain/duration.js';
import { parseSize } from '../../domain/byte-size.js';
import { ensureTemporal } from '../../dev/embedded-temporal.js';
import { JsonLogger } from '../../observability/json-logger.js';
import { connectionError, connectionOptions } from '../../client/connection.js';
import { ensureSearchAttributes } from '../../client/search-attributes.js';
import { createPublisherWorker } from '../../worker.js';
import { DEFAULT_CACHE_MAX_BYTES } from '../../activities/environment.js';
import { CacheBudget } from '../../compose/cache-budget.js';
import { cacheDirOf, cacheSpaceWarning } from '../../compose/work-dir-space.js';

/**
 * `compose-publisher worker`: polls the task queue until SIGINT/SIGTERM. Then it stops polling, gives in-flight
 * activities [worker].shutdown_grace_time to finish, cancels the rest (they see it through their heartbeats and
 * are retried on another worker), and exits.
 */
export async function runWorkerCommand(config: Config, logLevel: LogLevel): Promise<void> {
  const logger = new JsonLogger(logLevel);
  try {
    Runtime.install({
      logger,
      shutdownSignals: ['SIGINT', 'SIGTERM'],
      ...(config.metrics
        ? { telemetryOptions: { metrics: { prometheus: { bindAddress: config.metrics.address } } } }
        : {}),
    });
  } catch (error) {
    if (config.metrics && /address already in use/i.test((error as Error).message)) {
      throw new ConfigError(
        `[metrics] address ${config.metrics.address} is already in use by another process: choose a free port (each worker on a host needs its own), or remove [metrics]`,
      );
    }
    throw error;
  }
  for (const warning of configWarnings(config)) logger.warn(warning);
  const allowed = allowedLocations(config);
  if (!allowed) {
    logger.warn(
      `${config.source}: ${ALLOWED_LOCATIONS_KEY} is not set: this worker reads a compose from any location a run names, and publishes it. ` +
        `Set it to the prefixes your composes come from, e.g. [compose] allowed_locations = ["https://kojipkgs.fedoraproject.org/compose/"]`,
    );
  }
  const signing = await workerSigningKey(config, logger);
  const workDir = resolve(config.publish.work_dir);
  const cacheMaxBytes = parseSize(config.publish.cache_max_size) ?? DEFAULT_CACHE_MAX_BYTES;
  const spaceWarning = cacheSpaceWarning(
    workDir,
    cacheMaxBytes,
    new CacheBudget(cacheDirOf(workDir), cacheMaxBytes).heldBytes(),
  );
  if (spaceWarning) logger.warn(`${config.source}: ${spaceWarning}`, { workDir, cacheMaxBytes });
  const temporal = await ensureTemporal(config);
  const options = config.temporal.address ? connectionOptions(config) : { address: temporal.address };
  const connection = await NativeConnection.connect(options).catch(async (error: unknown) => {
    throw await connectionError(config, { ...options, address: options.address ?? temporal.address }, error);
  });
  try {
    // Before the bundle is built: a namespace without the search attributes the workflows write would fail their
    // workflow tasks at every retry, in silence for whoever started them.
    await ensureSearchAttributes(connection, config.temporal.namespace, {
      create: config.temporal.create_search_attributes,
      what: 'the worker does not start',
      log: (level, message) => logger[level](message, { namespace: config.temporal.namespace }),
    });
    const worker = await createPublisherWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.task_queue,
      workDir,
      settings: publishSettings(config),
      cacheMaxBytes,
      shutdownGraceTime: config.worker.shutdown_grace_time,
      maxConcurrentActivityTaskExecutions: config.worker.max_concurrent_activities,
      allowedLocations: allowed,
      signing,
      ...(config.amqp ? { broker: brokerSettings(config.amqp) } : {}),
    }).catch((error: unknown) => {
      throw error instanceof WorkDirInUse ? new ConfigError(error.message) : error;
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () =>
        logger.info(
          `${signal}: no new tasks; in-flight activities have ${config.worker.shutdown_grace_time} to finish`,
          {
            graceMs: durationMs(config.worker.shutdown_grace_time),
          },
        ),
      );
    }
    logger.info('worker polling', {
      taskQueue: config.temporal.task_queue,
      address: temporal.address,
      namespace: config.temporal.namespace,
      ...(temporal.uiUrl ? { ui: temporal.uiUrl } : {}),
      ...(config.metrics ? { metrics: `http://${config.metrics.address}/metrics` } : {}),
    });
    await worker.run();
    logger.info('worker stopped');
  } finally {
    await connection.close();
    await temporal.stop();
  }
}

/**
 * [signing], checked before anything starts: a key that cannot be read or decrypted, an unset passphrase variable or
 * public_keys without the key's own is a ConfigError naming the file and the fix. No [signing]: nothing is signed.
 */
export async function workerSigningKey(
  config: Config,
  logger: Pick<JsonLogger, 'info'>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SigningKey | undefined> {
  const settings = signingSettings(config);
  if (!settings) {
    logger.info(`${config.source}: no [signing]: published images and indexes are not signed`);
    return undefined;
  }
  const key = await checkSigningKey(settings, env, config.source).catch((error: unknown) => {
    throw error instanceof SigningKeyError ? new ConfigError(error.message) : error;
  });
  logger.info('signing published images', { privateKey: key.privateKey, publicKeys: key.publicKeys });
  return key;
}
