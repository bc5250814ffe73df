import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AllowedLocations } from '../domain/allowed-location.js';
import type { PublishSettings } from '../domain/settings.js';
import { CacheBudget } from '../compose/cache-budget.js';
import { cacheDirOf } from '../compose/work-dir-space.js';
import type { BrokerSettings } from '../tools/broker-connection.js';
import { useToolTempDir } from '../tools/run-tool.js';
import type { ContainerStorage } from '../tools/storage.js';
import { AUTHFILE_DIR_PREFIX } from './registry-credentials.js';
import type { SigningKey } from './signing-key.js';
import { lockWorkDir } from './work-dir-lock.js';

/** What activities need from the host they run on. Nothing here is shared between hosts. */
export interface ActivityEnvironment {
  /** [publish] work_dir, resolved: everything below is under it, and a full or unwritable one is the worker's fault. */
  workDir: string;
  /** Downloaded and decompressed compose images, keyed by sha256. */
  cacheDir: string;
  /** Keeps cacheDir under [publish] cache_max_size, never removing an archive an activity is using. */
  cacheBudget: CacheBudget;
  /** Short-lived files: authfiles, digest files. */
  scratchDir: string;
  /** The tools' TMPDIR. */
  tmpDir: string;
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
  /**
   * [compose] allowed_locations of this worker: every compose, image and redirect a run reads must lie under one of
   * these, else it is refused before it is requested. Undefined: any location (the worker warns at start).
   */
  allowedLocations?: AllowedLocations;
  /**
   * [signing] of this worker, checked at start (checkSigningKey): signImages signs with it and verifies against its
   * public keys. Undefined: nothing is signed. The passphrase stays in `env`, read at each call.
   */
  signing?: SigningKey;
}

export interface ActivityEnvironmentOptions {
  workDir: string;
  settings: PublishSettings;
  /** [compose] allowed_locations; undefined: any location. */
  allowedLocations?: AllowedLocations | undefined;
  env?: NodeJS.ProcessEnv;
  broker?: BrokerSettings;
  /** [publish] cache_max_size in bytes. */
  cacheMaxBytes?: number;
  /** [signing], as checkSigningKey returned it; undefined: nothing is signed. */
  signing?: SigningKey | undefined;
}

/** Default [publish] cache_max_size. */
export const DEFAULT_CACHE_MAX_BYTES = 20 * 1024 ** 3;

export function activityEnvironment(options: ActivityEnvironmentOptions): ActivityEnvironment {
  const { settings, env = process.env, broker, allowedLocations, signing } = options;
  const root = resolve(options.workDir);
  const cacheDir = cacheDirOf(root);
  const environment = {
    workDir: root,
    settings,
    cacheDir,
    cacheBudget: new CacheBudget(cacheDir, options.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES),
    scratchDir: join(root, 'scratch'),
    tmpDir: join(root, 'tmp'),
    storage: { root: join(root, 'storage'), runroot: join(root, 'runroot') },
    env,
    ...(broker ? { broker } : {}),
    ...(allowedLocations ? { allowedLocations } : {}),
    ...(signing ? { signing } : {}),
  };
  mkdirSync(root, { recursive: true });
  lockWorkDir(root);
  sweepLeftovers(environment);
  for (const dir of [
    environment.cacheDir,
    environment.scratchDir,
    environment.tmpDir,
    environment.storage.root,
    environment.storage.runroot,
  ]) {
    mkdirSync(dir, { recursive: true });
  }
  useToolTempDir(environment.tmpDir);
  return environment;
}

/**
 * What a killed worker leaves behind: authfiles (auth-* directories), the tools' temporary files (skopeo's oci*
 * unpacked archives) and half-written cache files (*.part). The work dir is this worker's own (one worker process
 * per work_dir, held by lockWorkDir), so whatever of these is there at start is such a leftover.
 */
function sweepLeftovers(environment: Pick<ActivityEnvironment, 'scratchDir' | 'tmpDir' | 'cacheDir'>): void {
  const remove = (dir: string, wanted: (entry: string) => boolean) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) if (wanted(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  };
  remove(environment.scratchDir, (entry) => entry.startsWith(AUTHFILE_DIR_PREFIX));
  remove(environment.tmpDir, () => true);
  remove(environment.cacheDir, (entry) => entry.endsWith('.part'));
}
