/**
 * Where the time of `compose-publisher publish --wait` goes for an identical respin (issue 27: ≤ 1.5 s): node's start,
 * the imports, reading the config and the compose's metadata, the connection, starting the run, waiting for its end.
 * One small compose (1 repository × 2 arches × 1 MiB) is published once through the client; then each run publishes
 * an identical respin (byte-identical images under a new compose id) three ways, each a child process:
 *   - `node -e 0`: node alone;
 *   - bench/cli-phases-probe.mjs: the publish path with a timestamp after each phase;
 *   - `node bin/compose-publisher.js publish <compose> --wait`: the CLI as a user runs it.
 * Wall time from spawn to exit, and CPU-seconds (bench/cpu.ts: the child's, once waited for).
 *
 *   npx tsx bench/cli-phases.ts [--runs 3] [--built]
 * --built runs dist/ (after `npm run build`), as an installed CLI does; without it, src/ through tsx, as a checkout does.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startPublishRun } from '../src/client/publish-runs.js';
import { loadConfig } from '../src/config.js';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server.js';
import { copyCompose, makeBenchCompose } from './compose.js';
import { waitedChildrenCpuSeconds } from './cpu.js';
import {
  CLI,
  cleanUp,
  exitOf,
  median,
  onCleanup,
  PROJECT,
  say,
  startRegistries,
  startWorker,
  table,
  writeWorkerConfig,
} from './harness.js';

const PROBE = join(PROJECT, 'bench', 'cli-phases-probe.mjs');

interface ChildRun {
  wallMs: number;
  cpuS: number;
  stdout: string;
}

async function runChild(args: string[]): Promise<ChildRun> {
  const cpuFrom = waitedChildrenCpuSeconds();
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: PROJECT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await exitOf(child);
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`node ${args.join(' ')} exited with ${code}:\n${stderr}`);
  return { wallMs, cpuS: waitedChildrenCpuSeconds() - cpuFrom, stdout };
}

export async function runCliPhases(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { runs: { type: 'string', default: '3' }, built: { type: 'boolean', default: false } },
    strict: true,
  });
  const runs = Number(values.runs);
  if (values.built && !existsSync(join(PROJECT, 'dist', 'cli', 'main.js')))
    throw new Error('--built needs dist/: run `npm run build` first');
  const dir = mkdtempSync(join(tmpdir(), 'compose-publisher-cli-phases-'));
  onCleanup(`the temporary directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  say(
    `cli-phases: ${values.built ? 'dist/ (built)' : 'src/ through tsx'}, ${runs} run(s); ${availableParallelism()} cores, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const temporal = await startTemporalDevServer({ dataDir: join(dir, 'temporal') });
  onCleanup('the Temporal dev server', () => temporal.stop());
  const connection = await Connection.connect({ address: temporal.address });
  onCleanup('the Temporal client connection', () => connection.close());
  const client = new Client({ connection, namespace: temporal.namespace });
  const shape = { repositories: 1, arches: 2, sizeMiB: 1 };
  const composes = join(dir, 'composes');
  const base = await makeBenchCompose('Fedora-40-20240401.n.0', shape, {
    dir: composes,
    storage: { root: join(dir, 'image-build', 'storage'), runroot: join(dir, 'image-build', 'run') },
    parallelism: 2,
  });
  const registries = await startRegistries(1, join(dir, 'registries'));
  const configFile = writeWorkerConfig(join(dir, 'worker'), {
    temporal,
    taskQueue: 'cli-phases',
    registries: registries.servers.map((r) => `${r.host}/cli-phases`),
    shape,
  });
  await startWorker(configFile, join(dir, 'worker', 'worker.log'), process.env, client);
  const first = await startPublishRun(client, loadConfig(configFile), base.root);
  await first.handle.result();

  const node: ChildRun[] = [];
  const probes: Array<ChildRun & { marks: Record<string, number> }> = [];
  const cli: ChildRun[] = [];
  let respin = 0;
  const nextRespin = async () => (await copyCompose(base, `Fedora-40-20240401.n.${++respin}`, composes)).root;
  for (let run = 0; run < runs; run++) {
    node.push(await runChild(['-e', '0']));
    const probe = await runChild([PROBE, configFile, await nextRespin(), values.built ? 'built' : 'src']);
    const result = JSON.parse(probe.stdout.trim().split('\n').pop()!) as { marks: Record<string, number> };
    probes.push({ ...probe, marks: result.marks });
    cli.push(await runChild([CLI, '--config', configFile, 'publish', await nextRespin(), '--wait']));
  }

  const phases = Object.keys(probes[0]!.marks);
  const step = (p: (typeof probes)[number], i: number) =>
    p.marks[phases[i]!]! - (i === 0 ? 0 : p.marks[phases[i - 1]!]!);
  say();
  say(
    table(
      ['phase of publish --wait (identical respin)', `ms, median of ${runs}`],
      [
        ...phases.map((phase, i) => [phase, median(probes.map((p) => step(p, i))).toFixed(0)]),
        ['exit (spawn → exit, less the last mark)', median(probes.map((p) => p.wallMs - p.marks.closed!)).toFixed(0)],
      ],
      [1],
    ),
  );
  say();
  say(
    table(
      ['process (identical respin)', 'wall, median', 'CPU-s, median'],
      [
        ['node -e 0', node, 'node alone'],
        ['bench/cli-phases-probe.mjs', probes, ''],
        ['compose-publisher publish --wait', cli, ''],
      ].map(([label, list]) => [
        label as string,
        `${(median((list as ChildRun[]).map((r) => r.wallMs)) / 1000).toFixed(2)} s`,
        median((list as ChildRun[]).map((r) => r.cpuS)).toFixed(2),
      ]),
      [1, 2],
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runCliPhases(process.argv.slice(2))
    .then(
      () => cleanUp(),
      async (error: unknown) => {
        console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        process.exitCode = 1;
        await cleanUp();
      },
    )
    .finally(() => process.exit());
}
