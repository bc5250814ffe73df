import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';

export const HISTORIES_DIR = fileURLToPath(new URL('../histories/', import.meta.url));

/**
 * With RECORD_HISTORIES=1, saves a finished run's history as test/histories/<name>.json. Recorded histories are
 * committed: the replay test runs them against the current workflow code, so a change that would break running
 * workflows fails there (and needs patched()).
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.RECORD_HISTORIES !== '1') return;
  writeFileSync(`${HISTORIES_DIR}${name}.json`, historyToJSON(await handle.fetchHistory()));
}
