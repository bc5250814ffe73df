/**
 * Scale benchmark (issue 13, item 3): many composes in flight at once, small images.
 *   1) N composes started together on one worker: time until the last run ends (drain), the worker's peak RSS, the
 *      history events of the runs and of the repository locks;
 *   2) the same N composes, to new registries on a new Temporal server, with 3 workers on one task queue.
 * The composes spread over R releases (Fedora-36 … Fedora-40), each with images of its own (built with buildah), so
 * every run really pushes. Every run must end `pass`; each release's index must end on its newest compose.
 *
 *   npx tsx bench/scale.ts [--composes 50] [--releases 5] [--repos 2] [--arches 2] [--size-mib 1] [--registries 2]
 *                          [--one-worker]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { startPublishRun } from '../src/client/publish-runs.js';
import { loadConfig } from '../src/config.js';
import { compareComposeIds } from '../src/domain/compose-id.js';
import { COMPOSE_ID_ANNOTATION } from '../src/domain/types.js';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server.js';
import { BENCH_ARCHES, makeBenchCompose, type BenchCompose, type ComposeShape } from './compose.js';
import {
  cleanUp,
  onCleanup,
  peakRssKiB,
  say,
  seconds,
  startRegistries,
  startWorker,
  table,
  writeWorkerConfig,
} from './harness.js';

const USAGE = `usage: tsx bench/scale.ts [options]
  --composes N     composes in flight at once (default 50)
  --releases N     releases they spread over, Fedora-40 downwards (default 5)
  --repos N        repositories per compose (default 2)
  --arches N       arches per repository, 1–${BENCH_ARCHES.length} (default 2)
  --size-mib N     MiB of random bytes per image (default 1)
  --registries N   registries (default 2)
  --one-worker     measure the drain with one worker only (not again with three)
  --keep           keep the scratch directory`;

interface ScaleOptions {
  composes: number;
  releases: number;
  shape: ComposeShape;
  registries: number;
  oneWorker: boolean;
  keep: boolean;
}

function parseOptions(args: string[]): ScaleOptions | undefined {
  const { values } = parseArgs({
    args,
    options: {
      composes: { type: 'string', default: '50' },
      releases: { type: 'string', default: '5' },
      repos: { type: 'string', default: '2' },
      arches: { type: 'string', default: '2' },
      'size-mib': { type: 'string', default: '1' },
      'one-worker': { type: 'boolean', default: false },
      registries: { type: 'string', default: '2' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const count = (name: 'composes' | 'releases' | 'repos' | 'arches' | 'size-mib' | 'registries', max: number) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new Error(`--${name} must be a whole number from 1 to ${max}, not ${values[name]}\n${USAGE}`);
    return value;
  };
  return {
    composes: count('composes', 500),
    releases: count('releases', 10),
    shape: {
      repositories: count('repos', 20),
      arches: count('arches', BENCH_ARCHES.length),
      sizeMiB: count('size-mib', 64),
    },
    registries: count('registries', 5),
    oneWorker: values['one-worker'],
    keep: values.keep,
  };
}

export async function runScaleBenchmark(args: string[]): Promise<void> {
  const options = parseOptions(args);
  if (!options) return;
  try {
    await benchmark(options);
  } finally {
    await cleanUp();
  }
}

interface Scenario {
  label: string;
  workers: number;
  drainMs: number;
  peakRssKiB: number[];
  runEvents: number;
  lockEvents: number;
  decisions: string;
}

async function benchmark(options: ScaleOptions): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'compose-publisher-scale-'));
  onCleanup(`the temporary directory ${dir}`, () => {
    if (options.keep) say(`scale: --keep: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });
  const imageCount = options.composes * options.shape.repositories * options.shape.arches;
  say(
    `scale: ${options.composes} composes over ${options.releases} releases, each ${options.shape.repositories} repositories × ${options.shape.arches} arches of ${options.shape.sizeMiB} MiB (${imageCount} images), ${options.registries} registries`,
  );

  let phase = Date.now();
  const composes = await buildComposes(options, dir);
  say(`scale: ${composes.length} composes built with buildah (${seconds(Date.now() - phase)})`);

  const scenarios: Scenario[] = [];
  for (const workers of options.oneWorker ? [1] : [1, 3]) {
    phase = Date.now();
    scenarios.push(await publishAll(options, composes, workers, join(dir, `workers-${workers}`)));
    say(
      `scale: ${workers} worker(s): drained in ${seconds(scenarios.at(-1)!.drainMs)} (scenario ${seconds(Date.now() - phase)} with its servers)`,
    );
  }

  say();
  say(
    `## ${options.composes} composes in flight (${options.releases} releases × ${options.shape.repositories} repositories × ${options.shape.arches} arches × ${options.shape.sizeMiB} MiB → ${options.registries} registries, ${availableParallelism()} cores)`,
  );
  say();
  say(
    table(
      [
        'workers on the task queue',
        'drain (first start → last end)',
        'composes / min',
        'peak RSS per worker',
        'history events (runs / locks)',
        'decisions',
      ],
      scenarios.map((s) => [
        String(s.workers),
        seconds(s.drainMs),
        ((options.composes / s.drainMs) * 60_000).toFixed(1),
        s.peakRssKiB.map((kib) => `${(kib / 1024).toFixed(0)} MiB`).join(', '),
        `${s.runEvents} / ${s.lockEvents}`,
        s.decisions,
      ]),
      [1, 2, 3, 4],
    ),
  );
  const one = scenarios.find((s) => s.workers === 1)!;
  const three = scenarios.find((s) => s.workers === 3);
  say();
  say(
    table(
      ['issue 13 target (a benchmark, not a test)', 'measured', 'met'],
      [
        [
          `worker peak RSS ≤ 1 GiB with ${options.composes} composes in flight`,
          `${(Math.max(...one.peakRssKiB) / 1024).toFixed(0)} MiB`,
          Math.max(...one.peakRssKiB) <= 1024 * 1024 ? 'yes' : 'no',
        ],
        ...(three
          ? [
              [
                'throughput of 3 workers ÷ 1 worker (reported, no target)',
                `${(one.drainMs / three.drainMs).toFixed(2)} ×`,
                '–',
              ],
            ]
          : []),
      ],
      [1],
    ),
  );
  say();
  say(`scale: done in ${seconds(Date.now() - started)}`);
}

/** Composes Fedora-<release>-<date>.n.0, releases from 40 down, dates one day apart, each with images of its own. */
async function buildComposes(options: ScaleOptions, dir: string): Promise<BenchCompose[]> {
  const storage = { root: join(dir, 'image-build', 'storage'), runroot: join(dir, 'image-build', 'run') };
  const composes: BenchCompose[] = [];
  for (let i = 0; i < options.composes; i++) {
    const release = 40 - (i % options.releases);
    const day = new Date(Date.UTC(2024, 5, 1) + Math.floor(i / options.releases) * 86_400_000)
      .toISOString()
      .slice(0, 10)
      .replace(/-/g, '');
    composes.push(
      await makeBenchCompose(`Fedora-${release}-${day}.n.0`, options.shape, {
        dir: join(dir, 'composes'),
        storage,
        parallelism: availableParallelism(),
      }),
    );
  }
  rmSync(join(dir, 'image-build'), { recursive: true, force: true });
  return composes;
}

/** Every compose started at once against `workers` workers on one task queue, on a Temporal server and registries of their own. */
async function publishAll(
  options: ScaleOptions,
  composes: BenchCompose[],
  workers: number,
  dir: string,
): Promise<Scenario> {
  const temporal = await startTemporalDevServer({ dataDir: join(dir, 'temporal') });
  const stopTemporal = onCleanup('the Temporal dev server', () => temporal.stop());
  const connection = await Connection.connect({ address: temporal.address });
  const closeConnection = onCleanup('the Temporal client connection', () => connection.close());
  const client = new Client({ connection, namespace: temporal.namespace });
  const registries = await startRegistries(options.registries, join(dir, 'registries'));
  const registryUrls = registries.servers.map((r) => `${r.host}/scale`);
  // One config per worker, all on one task queue: each worker process has a work dir of its own.
  const configFiles = Array.from({ length: workers }, (_, w) =>
    writeWorkerConfig(join(dir, `worker-${w}`), {
      temporal,
      taskQueue: 'scale',
      registries: registryUrls,
      shape: options.shape,
    }),
  );
  const config = loadConfig(configFiles[0]!);
  const processes = [];
  for (const [w, configFile] of configFiles.entries())
    processes.push(await startWorker(configFile, join(dir, `worker-${w}`, 'worker.log'), process.env, client));

  const from = Date.now();
  const runs = await Promise.all(composes.map((compose) => startPublishRun(client, config, compose.root)));
  type RunResult = { phase: string; repositories: Array<{ repository: string; decision: string; error?: string }> };
  const settled = await Promise.allSettled(runs.map((run) => run.handle.result() as Promise<RunResult>));
  const failed = settled.flatMap((outcome, i) =>
    outcome.status === 'rejected' ? [`${composes[i]!.composeId}: ${causeChain(outcome.reason)}`] : [],
  );
  if (failed.length > 0)
    throw new Error(
      `${failed.length} run(s) failed with ${workers} worker(s) (logs under ${dir}):\n${failed.join('\n')}`,
    );
  const results = settled.map((outcome) => (outcome as PromiseFulfilledResult<RunResult>).value);
  const drainMs = Date.now() - from;
  const peak = processes.map((p) => peakRssKiB(p.pid));

  const counts = new Map<string, number>();
  for (const [i, result] of results.entries()) {
    for (const r of result.repositories) {
      if (r.decision === 'failed' || r.decision === 'blocked')
        throw new Error(`${composes[i]!.composeId}: ${r.repository} ${r.decision}${r.error ? `: ${r.error}` : ''}`);
      counts.set(r.decision, (counts.get(r.decision) ?? 0) + 1);
    }
  }
  await verifyNewestPerRelease(composes, registryUrls);
  let runEvents = 0;
  let lockEvents = 0;
  for await (const execution of client.workflow.list()) {
    const events =
      (await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory()).events?.length ?? 0;
    if (execution.workflowId.startsWith('publish:')) runEvents += events;
    else lockEvents += events;
  }
  for (const p of processes) await p.stop();
  await registries.stop();
  await closeConnection();
  await stopTemporal();
  return {
    label: `${workers} worker(s)`,
    workers,
    drainMs,
    peakRssKiB: peak,
    runEvents,
    lockEvents,
    decisions: [...counts].map(([decision, n]) => `${n} ${decision}`).join(', '),
  };
}

function causeChain(error: unknown): string {
  const messages: string[] = [];
  for (let e = error as { message?: string; cause?: unknown } | undefined; e; e = e.cause as typeof e)
    messages.push(e.message ?? JSON.stringify(e));
  return messages.join(' ← ');
}

/** Each release's index, on every registry, lists every arch, each from the newest compose of that release. */
async function verifyNewestPerRelease(composes: BenchCompose[], registries: string[]): Promise<void> {
  const newest = new Map<string, BenchCompose>();
  for (const compose of composes) {
    const release = compose.composeId.split('-')[1]!;
    const current = newest.get(release);
    if (!current || compareComposeIds(compose.composeId, current.composeId) > 0) newest.set(release, compose);
  }
  for (const registry of registries) {
    const [host, ...namespace] = registry.split('/');
    for (const [release, compose] of newest) {
      for (const repository of new Set(compose.images.map((image) => image.repository.repository))) {
        const url = `http://${host}/v2/${namespace.join('/')}/${repository}/manifests/${release}`;
        const response = await fetch(url, { headers: { Accept: 'application/vnd.oci.image.index.v1+json' } });
        const index = response.ok
          ? ((await response.json()) as { manifests?: Array<{ annotations?: Record<string, string> }> })
          : {};
        const from = (index.manifests ?? []).map((m) => m.annotations?.[COMPOSE_ID_ANNOTATION]);
        const arches = compose.images.filter((image) => image.repository.repository === repository).length;
        if (from.length !== arches || from.some((id) => id !== compose.composeId)) {
          throw new Error(
            `${registry}/${repository}:${release} should list ${arches} images from ${compose.composeId}, lists ${JSON.stringify(from)}`,
          );
        }
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runScaleBenchmark(process.argv.slice(2)).then(
    () => process.exit(),
    (error: unknown) => {
      console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
