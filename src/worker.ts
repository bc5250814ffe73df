import { existsSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from './activities/index.js';
import { activityEnvironment } from './activities/environment.js';
import type { SigningKey } from './activities/signing-key.js';
import type { AllowedLocations } from './domain/allowed-location.js';
import type { PublishSettings } from './domain/settings.js';
import type { BrokerSettings } from './tools/broker-connection.js';

/** The workflows module next to this file: src/workflows/index.ts under tsx, dist/workflows/index.js when built. */
export const WORKFLOWS_PATH = fileURLToPath(
  new URL(`./workflows/index${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);

export interface PublisherWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Cache, scratch files and buildah storage of this host. */
  workDir: string;
  /** What runs publish, and where: from this worker's config (publishSettings), never from a run's input. */
  settings: PublishSettings;
  env?: NodeJS.ProcessEnv;
  /** A bundle (tests build one per file); default: the one `npm run build` wrote, else bundle WORKFLOWS_PATH at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** The broker notifications go to ([amqp]). */
  broker?: BrokerSettings;
  /** [compose] allowed_locations (allowedLocations(config)): where runs may read composes from; undefined: anywhere. */
  allowedLocations?: AllowedLocations | undefined;
  /** [publish] cache_max_size in bytes. */
  cacheMaxBytes?: number;
  /** At most this many activities run at once on this worker. */
  maxConcurrentActivityTaskExecutions?: number;
  /** After shutdown starts, in-flight activities get this long before they are cancelled. */
  shutdownGraceTime?: string;
  /** [signing], checked by checkSigningKey before the worker is created; undefined: nothing is signed. */
  signing?: SigningKey | undefined;
}

/** The workflow bundle `npm run build` writes next to the built workflows (scripts/bundle-workflows.mjs). */
export const PREBUILT_BUNDLE_PATH = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

/**
 * The prebuilt bundle when this is the built code and the bundle is at least as new as the built workflows;
 * otherwise undefined, and the worker bundles at start (a checkout run through tsx, the tests).
 */
function prebuiltBundle(): { codePath: string } | undefined {
  if (extname(WORKFLOWS_PATH) !== '.js' || !existsSync(PREBUILT_BUNDLE_PATH)) return undefined;
  return statSync(PREBUILT_BUNDLE_PATH).mtimeMs >= statSync(WORKFLOWS_PATH).mtimeMs
    ? { codePath: PREBUILT_BUNDLE_PATH }
    : undefined;
}

/** A worker that runs publishCompose and its activities. */
export async function createPublisherWorker(options: PublisherWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: createActivities(
      activityEnvironment({
        workDir: options.workDir,
        settings: options.settings,
        ...(options.env ? { env: options.env } : {}),
        ...(options.broker ? { broker: options.broker } : {}),
        ...(options.cacheMaxBytes ? { cacheMaxBytes: options.cacheMaxBytes } : {}),
        ...(options.allowedLocations ? { allowedLocations: options.allowedLocations } : {}),
        ...(options.signing ? { signing: options.signing } : {}),
      }),
    ),
    workflowBundle: options.workflowBundle ?? prebuiltBundle() ?? (await bundleWorkflows()),
    maxConcurrentActivityTaskExecutions: options.maxConcurrentActivityTaskExecutions ?? 8,
    // A run whose worker died waits this long (not the default 10 s) before its next workflow task goes to another.
    stickyQueueScheduleToStartTimeout: '3s',
    ...(options.shutdownGraceTime ? { shutdownGraceTime: options.shutdownGraceTime } : {}),
  });
}

/** Bundles the workflow code, passing on the bundler's warnings but not its webpack statistics. */
export function bundleWorkflows(): Promise<{ code: string }> {
  const logger = Runtime.instance().logger;
  const drop = () => undefined;
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: {
      log: drop,
      trace: drop,
      debug: drop,
      info: drop,
      warn: (m, meta) => void logger.warn(m, meta),
      error: (m, meta) => void logger.error(m, meta),
    },
  });
}
