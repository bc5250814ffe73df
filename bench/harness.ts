/**
 * What the benchmarks share: a clean-up registry (every process and directory a benchmark starts is stopped and
 * removed at the end, on failure and on SIGINT/SIGTERM), loopback registries, `compose-publisher worker` child
 * processes with their peak RSS, the check that a compose was published, and the printed tables.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../src/config.js';
import { startRegistry, type RegistryServer } from '../src/dev/registry-server.js';
import type { DevServer } from '../src/dev/temporal-dev-server.js';
import { BENCH_ARCHES, benchRepositories, type BenchCompose, type ComposeShape } from './compose.js';

export const PROJECT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = join(PROJECT, 'bin', 'compose-publisher.js');
export const RELEASE = '40';
export const INDEX_TAGS = [RELEASE, 'latest'];

export const say = (line = '') => console.log(line);
export const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

// ---------------------------------------------------------------------------------------------------------------
// Clean-up: every process and directory this run makes is registered here and removed at the end, on failure, and
// on SIGINT/SIGTERM.

const cleanups: Array<{ what: string; run: () => Promise<void> | void }> = [];
let cleaning: Promise<void> | undefined;

export function onCleanup(what: string, run: () => Promise<void> | void): () => Promise<void> {
  const entry = { what, run };
  cleanups.push(entry);
  // Done early (a way's registries once it is measured): run it now and forget it.
  return async () => {
    const index = cleanups.indexOf(entry);
    if (index < 0) return;
    cleanups.splice(index, 1);
    await entry.run();
  };
}

export function cleanUp(): Promise<void> {
  cleaning ??= (async () => {
    while (cleanups.length > 0) {
      const entry = cleanups.pop()!;
      try {
        await entry.run();
      } catch (error) {
        console.error(`bench: clean-up of ${entry.what} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaning;
}

// --- registries -------------------------------------------------------------------------------------------------

export async function startRegistries(
  count: number,
  dataDir: string,
): Promise<{ servers: RegistryServer[]; stop: () => Promise<void> }> {
  const servers: RegistryServer[] = [];
  const stop = onCleanup(`the registries under ${dataDir}`, async () => {
    await Promise.allSettled(servers.map((server) => server.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (let i = 0; i < count; i++) servers.push(await startRegistry({ dataDir: join(dataDir, String(i)) }));
  return { servers, stop };
}

const ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Every arch tag and index tag is there, and each index lists every arch: a way that published less does not count. */
export async function verifyPublished(compose: BenchCompose, registries: string[]): Promise<void> {
  for (const registry of registries) {
    const [host, ...namespace] = registry.split('/');
    for (const repository of new Set(compose.images.map((image) => image.repository.repository))) {
      const arches = compose.images.filter((image) => image.repository.repository === repository);
      const url = (tag: string) => `http://${host}/v2/${namespace.join('/')}/${repository}/manifests/${tag}`;
      for (const image of arches) {
        const response = await fetch(url(`${RELEASE}-${image.composeArch}`), { headers: { Accept: ACCEPT } });
        if (!response.ok)
          throw new Error(
            `${registry}/${repository}:${RELEASE}-${image.composeArch} is missing (HTTP ${response.status})`,
          );
      }
      for (const tag of INDEX_TAGS) {
        const response = await fetch(url(tag), { headers: { Accept: ACCEPT } });
        const index = response.ok ? ((await response.json()) as { manifests?: unknown[] }) : {};
        if ((index.manifests?.length ?? 0) !== arches.length) {
          throw new Error(
            `${registry}/${repository}:${tag} should be an index of ${arches.length} images, is ${response.ok ? `one of ${index.manifests?.length ?? 0}` : `missing (HTTP ${response.status})`}`,
          );
        }
      }
    }
  }
}

// --- compose-publisher --------------------------------------------------------------------------------------------

export function writeWorkerConfig(
  workerDir: string,
  options: { temporal: DevServer; taskQueue: string; registries: string[]; shape: ComposeShape },
): string {
  mkdirSync(workerDir, { recursive: true });
  const file = join(workerDir, 'compose-publisher.toml');
  const repositories = benchRepositories(options.shape.repositories).map((r) => `${r.subvariant} = "${r.repository}"`);
  const arches = BENCH_ARCHES.slice(0, options.shape.arches).map(
    ([composeArch, ociArch]) => `${composeArch} = "${ociArch}"`,
  );
  writeFileSync(
    file,
    `# Written by bench/e2e.ts. Everything not set here is compose-publisher's default, as a new user gets it.
[temporal]
address = "${options.temporal.address}"
namespace = "${options.temporal.namespace}"
task_queue = "${options.taskQueue}"

${options.registries.map((url) => `[[registries]]\nurl = "${url}"\ntls_verify = false\n`).join('\n')}
[repositories]
${repositories.join('\n')}

[architectures]
${arches.join('\n')}

[releases]
latest = "${RELEASE}"

[gate]
wait_for_override = "10m"

[publish]
work_dir = "${join(workerDir, 'work')}"

[worker]
shutdown_grace_time = "5s"
`,
  );
  return file;
}

export interface WorkerProcess {
  pid: number;
  startupMs: number;
  /** VmHWM once it polls: what starting (bundling the workflows) took. */
  startupPeakKiB: number;
  stop: () => Promise<void>;
}

/** `compose-publisher --config <file> worker` as a child process; resolves once it polls both task queues. */
export async function startWorker(
  configFile: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  client: Client,
): Promise<WorkerProcess> {
  const from = Date.now();
  const log = openSync(logFile, 'a');
  // BENCH_WORKER_NODE_OPTIONS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): node flags for the worker alone, to profile it.
  const nodeOptions = (process.env.BENCH_WORKER_NODE_OPTIONS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeOptions, CLI, '--config', configFile, 'worker'], {
    cwd: PROJECT,
    env,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = exitOf(child);
  const stop = onCleanup(`the worker (pid ${child.pid})`, () => stopChild(child, exited));
  const taskQueue = loadConfig(configFile).temporal.task_queue;
  const deadline = Date.now() + 180_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the worker exited (code ${child.exitCode}) before it polled; its log:\n${tail(logFile)}`);
    if (Date.now() > deadline)
      throw new Error(`the worker did not poll ${taskQueue} within 180 s; its log:\n${tail(logFile)}`);
    const polling = await Promise.all(
      [1, 2].map(async (taskQueueType) => {
        const { pollers } = await client.workflowService.describeTaskQueue({
          namespace: client.options.namespace,
          taskQueue: { name: taskQueue },
          taskQueueType,
        });
        return (pollers ?? []).length > 0;
      }),
    );
    if (polling.every(Boolean)) break;
    await sleep(100);
  }
  return { pid: child.pid!, startupMs: Date.now() - from, startupPeakKiB: peakRssKiB(child.pid!), stop };
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolvePromise) => {
    if (child.exitCode !== null) resolvePromise(child.exitCode);
    child.once('exit', (code) => resolvePromise(code));
    child.once('error', () => resolvePromise(null));
  });
}

export async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const done = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
  if (!done) {
    child.kill('SIGKILL');
    await exited;
  }
}

export function tail(file: string, lines = 30): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : '(no log)';
}

/** VmHWM of a process: its peak resident set size so far, in KiB. */
export function peakRssKiB(pid: number): number {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : Number.NaN;
}

// --- the report ---------------------------------------------------------------------------------------------------

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

export function table(header: string[], rows: string[][], rightAligned: number[] = []): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (rightAligned.includes(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((w, i) => (rightAligned.includes(i) ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
}

/** Time when at least one tool ran (the union of the calls' intervals). */
