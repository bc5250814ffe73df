import { Context, log } from '@temporalio/activity';
import { listImageNames, removeImages } from '../tools/buildah.js';
import type { ActivityEnvironment } from './environment.js';
import { runIdOf, runPrefix } from './local-names.js';

export interface CleanupResult {
  removed: string[];
  failed: Array<{ name: string; error: string }>;
}

/**
 * Removes every local list or image this run created on this host. Errors are logged and swallowed:
 * cleanup must never turn a finished publication into a failed run.
 */
export function makeCleanup(environment: ActivityEnvironment) {
  return async function cleanup(): Promise<CleanupResult> {
    const prefix = runPrefix(runIdOf(Context.current()));
    try {
      const names = (await listImageNames(environment.storage)).filter((name) => name.startsWith(prefix));
      const failed = await removeImages(environment.storage, names);
      for (const failure of failed) log.warn('could not remove a local image; leaving it', failure);
      return { removed: names.filter((name) => !failed.some((f) => f.name === name)), failed };
    } catch (error) {
      log.warn('cleanup could not list local images; skipping', { error: (error as Error).message });
      return { removed: [], failed: [{ name: prefix, error: (error as Error).message }] };
    }
  };
}
