import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { activityEnvironment } from './activities/environment.js';

/** The workflows module next to this file: src/workflows/index.ts under tsx, dist/workflows/index.js when built. */
export const WORKFLOWS_PATH = fileURLToPath(new URL(`./workflows/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url));

export interface PublisherWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Cache, scratch files and buildah storage of this host. */
  workDir: string;
  env?: NodeJS.ProcessEnv;
  /** A prebuilt bundle (tests build one per run); default: bundle WORKFLOWS_PATH at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The broker notifications go to ([amqp] url). */
  amqpUrl?: string;
  /** At most this many arch pushes run at once on this worker. */
  maxConcurrentActivityTaskExecutions?: number;
}

/** A worker that runs publishCompose and its activities. */
export function createPublisherWorker(options: PublisherWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(activityEnvironment(options.workDir, options.env, options.amqpUrl)),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: WORKFLOWS_PATH }),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 8,
  });
}
