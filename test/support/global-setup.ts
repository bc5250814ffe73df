import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRegistry } from '../../src/dev/registry-server.js';
import { startTemporalDevServer } from '../../src/dev/temporal-dev-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalNamespace: string;
    registryHost: string;
    /** A per-run scratch directory; each test file makes its own subdirectory. */
    scratchDir: string;
  }
}

/** One Temporal dev server and one registry for the whole integration run, stopped even when tests fail. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const scratchDir = mkdtempSync(join(tmpdir(), 'compose-publisher-test-'));
  const temporal = await startTemporalDevServer({ dataDir: join(scratchDir, 'temporal') });
  const registry = await startRegistry({ dataDir: join(scratchDir, 'registry') }).catch(async (error: unknown) => {
    await temporal.stop();
    throw error;
  });
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalNamespace', temporal.namespace);
  project.provide('registryHost', registry.host);
  project.provide('scratchDir', scratchDir);
  return async () => {
    await Promise.allSettled([temporal.stop(), registry.stop()]);
    if (!process.env.KEEP_TEST_DIRS) rmSync(scratchDir, { recursive: true, force: true });
  };
}
