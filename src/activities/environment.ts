import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { PublishSettings } from '../domain/settings.js';
import type { BrokerSettings } from '../tools/broker-connection.js';
import type { ContainerStorage } from '../tools/storage.js';
import { AUTHFILE_DIR_PREFIX } from './registry-credentials.js';

/** What activities need from the host they run on. Nothing here is shared between hosts. */
export interface ActivityEnvironment {
  /** Downloaded and decompressed compose images, keyed by sha256. */
  cacheDir: string;
  /** Short-lived files: authfiles, digest files. */
  scratchDir: string;
  storage: ContainerStorage;
  /** Where registry credentials are read from. */
  env: NodeJS.ProcessEnv;
  /** The broker for notifications ([amqp]); its URL and certificates hold credentials, so they stay on the worker. */
  broker?: BrokerSettings;
  /**
   * This worker's own configuration: the registries, repositories, arch map and releases it publishes to. Runs get
   * it from here (the workerSettings activity), never from their input, and every registry an activity is asked to
   * touch must be one of these.
   */
  settings: PublishSettings;
}

export function activityEnvironment(workDir: string, settings: PublishSettings, env: NodeJS.ProcessEnv = process.env, broker?: BrokerSettings): ActivityEnvironment {
  const root = resolve(workDir);
  const environment = {
    settings,
    cacheDir: join(root, 'cache'),
    scratchDir: join(root, 'scratch'),
    storage: { root: join(root, 'storage'), runroot: join(root, 'runroot') },
    env,
    ...(broker ? { broker } : {}),
  };
  for (const dir of [environment.cacheDir, environment.scratchDir, environment.storage.root, environment.storage.runroot]) {
    mkdirSync(dir, { recursive: true });
  }
  sweepAuthfiles(environment.scratchDir);
  return environment;
}

/**
 * Authfiles live only while one tool call needs them; a worker killed meanwhile leaves its auth-* directories behind.
 * The work dir is this worker's own (one worker process per work_dir), so whatever is there at start is such a leftover.
 */
function sweepAuthfiles(scratchDir: string): void {
  for (const entry of readdirSync(scratchDir)) {
    if (entry.startsWith(AUTHFILE_DIR_PREFIX)) rmSync(join(scratchDir, entry), { recursive: true, force: true });
  }
}
