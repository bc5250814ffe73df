import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { execa } from 'execa';
import { until } from '../../support/faults.js';

export const PROJECT_DIR = fileURLToPath(new URL('../../../', import.meta.url));
const CLUSTER_SCRIPT = join(PROJECT_DIR, 'scripts', 'cluster.sh');

/** What `scripts/cluster.sh up` wrote to <cluster dir>/cluster.json. */
export interface ClusterState {
  address: string;
  namespace: string;
  serverVersion: string;
  uiUrl: string | null;
  runDir: string;
  logDir: string;
  searchAttributes: Record<string, string>;
  /** The mTLS frontend of `scripts/cluster.sh up --tls`, and the client certificate its CA signed; null without --tls. */
  tls: { address: string; ca: string; clientCert: string; clientKey: string } | null;
}

export type ClusterService = 'frontend' | 'history' | 'matching' | 'worker';

export function readClusterState(): ClusterState {
  const clusterDir = process.env.CLUSTER_DIR ?? join(PROJECT_DIR, '.data', 'cluster');
  const file = join(clusterDir, 'cluster.json');
  if (!existsSync(file))
    throw new Error(
      `no cluster: ${file} does not exist. Start one with \`bash scripts/cluster.sh up\`, then run npm run test:cluster`,
    );
  return JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
}

/** Fails naming the address and the fix unless the cluster's frontend answers for its namespace. */
export async function checkCluster(state: ClusterState): Promise<void> {
  try {
    const connection = await Connection.connect({ address: state.address, connectTimeout: 5_000 });
    try {
      await connection.workflowService.describeNamespace({ namespace: state.namespace });
    } finally {
      await connection.close();
    }
  } catch (error) {
    throw new Error(
      `the cluster at ${state.address} (namespace ${state.namespace}) does not answer: ${(error as Error).message}. See \`bash scripts/cluster.sh status\` and ${state.logDir}; \`bash scripts/cluster.sh up\` starts what is stopped`,
    );
  }
}

/** The pid of a running service, from the pid file scripts/cluster.sh keeps. */
export function servicePid(runDir: string, service: ClusterService): number {
  const file = join(runDir, `${service}.pid`);
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || !existsSync(`/proc/${pid}`))
    throw new Error(`${service} is not running (pid file ${file}): run bash scripts/cluster.sh up`);
  return pid;
}

function gone(pid: number): boolean {
  try {
    return /^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

/** SIGKILLs one Temporal service of the cluster; resolves once the process is gone, with the time it died. */
export async function killService(runDir: string, service: ClusterService): Promise<number> {
  const pid = servicePid(runDir, service);
  process.kill(pid, 'SIGKILL');
  await until(`${service} (pid ${pid}) to die`, () => gone(pid), 10_000, 20);
  return Date.now();
}

/** `bash scripts/cluster.sh up`: starts whatever is not running (here, the service a test killed). */
export async function clusterUp(): Promise<string> {
  const result = await execa('bash', [CLUSTER_SCRIPT, 'up'], { reject: false, all: true, stdin: 'ignore' });
  if (result.exitCode !== 0)
    throw new Error(`bash scripts/cluster.sh up exited with ${result.exitCode}:\n${result.all}`);
  return result.all;
}
