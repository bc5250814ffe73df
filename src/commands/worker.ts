import { resolve } from 'node:path';
import { NativeConnection } from '@temporalio/worker';
import type { Config } from '../config.js';
import { ensureTemporal } from '../embedded/embedded-temporal.js';
import { createPublisherWorker } from '../worker.js';

/** `compose-publisher worker`: polls the task queue until SIGINT/SIGTERM, then drains and exits. */
export async function runWorkerCommand(config: Config): Promise<void> {
  const temporal = await ensureTemporal(config);
  const connection = await NativeConnection.connect({ address: temporal.address });
  try {
    const worker = await createPublisherWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.task_queue,
      workDir: resolve(config.publish.work_dir),
      ...(config.amqp ? { amqpUrl: config.amqp.url } : {}),
    });
    console.error(`worker: polling task queue "${config.temporal.task_queue}" on ${temporal.address} (namespace ${config.temporal.namespace})`);
    if (temporal.uiUrl) console.error(`worker: Temporal UI at ${temporal.uiUrl}`);
    await worker.run();
  } finally {
    await connection.close();
    await temporal.stop();
  }
}
