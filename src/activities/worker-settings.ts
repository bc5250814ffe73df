import type { PublishSettings } from '../domain/settings.js';
import type { ActivityEnvironment } from './environment.js';

/**
 * The worker's own settings for a run: registries, repositories, arch map, releases. A run asks for them instead of
 * taking them from its input, so whoever can start a run chooses a compose and nothing else; the answer is recorded
 * in the run's history, which shows what the run used (no secrets: credentials and the signing key stay in the
 * worker's environment; a run learns only that the worker signs).
 */
export function makeWorkerSettings(environment: ActivityEnvironment) {
  return function workerSettings(): Promise<PublishSettings> {
    return Promise.resolve({ ...environment.settings, ...(environment.signing ? { signing: true as const } : {}) });
  };
}
