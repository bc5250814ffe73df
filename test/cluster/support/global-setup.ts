import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRegistry, type RegistryServer } from '../../../src/dev/registry-server.js';
import { checkCluster, readClusterState } from './cluster.js';
import type {} from '../../support/global-setup.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** host:port of both registries the cluster's workers publish to. */
    registryHosts: string[];
    /** Their logs, one line per request (access log on). */
    registryLogs: string[];
    /** Where scripts/cluster.sh keeps the services' pid files. */
    clusterRunDir: string;
  }
}

/**
 * The cluster that `bash scripts/cluster.sh up` started (this setup does not start it: it is the thing under test),
 * and two registries with access logs, stopped even when tests fail. Provides what test/support's helpers inject
 * (temporalAddress, temporalNamespace, registryHost, scratchDir), so they work against the cluster unchanged.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const state = readClusterState();
  await checkCluster(state);
  const scratchDir = mkdtempSync(join(tmpdir(), 'compose-publisher-cluster-test-'));
  const registries: RegistryServer[] = [];
  try {
    for (const name of ['registry-a', 'registry-b'])
      registries.push(await startRegistry({ dataDir: join(scratchDir, name), accessLog: true }));
  } catch (error) {
    await Promise.allSettled(registries.map((registry) => registry.stop()));
    throw error;
  }
  project.provide('temporalAddress', state.address);
  project.provide('temporalNamespace', state.namespace);
  project.provide('registryHost', registries[0]!.host);
  project.provide(
    'registryHosts',
    registries.map((registry) => registry.host),
  );
  project.provide(
    'registryLogs',
    registries.map((registry) => registry.logFile),
  );
  project.provide('clusterRunDir', state.runDir);
  project.provide('scratchDir', scratchDir);
  return async () => {
    await Promise.allSettled(registries.map((registry) => registry.stop()));
    if (!process.env.KEEP_TEST_DIRS) rmSync(scratchDir, { recursive: true, force: true });
  };
}
