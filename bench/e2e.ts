/**
 * End-to-end benchmark (issue 13): one compose of R repositories × A arches of S MiB images, published to G loopback
 * registries four ways, side by side, each on registries of its own:
 *   a) the tools one at a time, as the legacy scripts do;   b) the same tools four at a time;
 *   c) compose-publisher, its worker (`compose-publisher worker`, a child process) already running;
 *   d) the identical respin: a new compose id, byte-identical images, to the registries of (c).
 * (c) and (d) are timed twice: through the client library (startPublishRun, then the run's result) and through the
 * CLI (`compose-publisher publish --wait`), each pair with its own worker and registries.
 * Prints the wall times and their ratio to (b), the CPU-seconds and their ratio to (b)'s (bench/cpu.ts: for the plain
 * tools the children this process ran; for compose-publisher the worker and the tools it waited for, the Temporal
 * dev server, and the CLI process or, through the client, this process); for (c) the history's events, per activity
 * type count and durations, per tool call count and durations, and the worker's peak RSS (VmHWM).
 *
 *   npx tsx bench/e2e.ts [--repos 3] [--arches 4] [--size-mib 20] [--registries 2] [--runs 1] [--keep] [--skip-cli]
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { startPublishRun } from '../src/client/publish-runs.js';
import { loadConfig } from '../src/config.js';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server.js';
import {
  childPidsMatching,
  ownCpuSeconds,
  processOwnCpuSeconds,
  processTreeCpuSeconds,
  waitedChildrenCpuSeconds,
} from './cpu.js';
import { BENCH_ARCHES, copyCompose, makeBenchCompose, type BenchCompose, type ComposeShape } from './compose.js';
import { eventsWithin, profileHistory, type HistoryProfile } from './history-profile.js';
import { publishWithPlainTools } from './plain-tools.js';
import {
  CLI,
  cleanUp,
  exitOf,
  INDEX_TAGS,
  median,
  onCleanup,
  peakRssKiB,
  PROJECT,
  RELEASE,
  say,
  seconds,
  startRegistries,
  startWorker,
  table,
  tail,
  verifyPublished,
  writeWorkerConfig,
} from './harness.js';
import { installToolShims, profileToolCalls, readToolCalls, type ToolCall, type ToolTrace } from './tool-trace.js';

const PLAIN_CONCURRENCY = 4;

const USAGE = `usage: tsx bench/e2e.ts [options]
  --repos N        repositories (subvariants) in the compose (default 3)
  --arches N       arches per repository, 1–${BENCH_ARCHES.length} (default 4)
  --size-mib N     MiB of random bytes per image (default 20)
  --registries N   registries each way publishes to (default 2)
  --runs N         measure each way N times (default 1)
  --skip-cli       do not time \`compose-publisher publish --wait\` (saves a worker start and two runs)
  --keep           keep the temporary directory (composes, logs, tool-call trace)`;

interface BenchOptions {
  shape: ComposeShape;
  registries: number;
  runs: number;
  keep: boolean;
  cli: boolean;
}

function parseOptions(args: string[]): BenchOptions | undefined {
  const { values } = parseArgs({
    args,
    options: {
      repos: { type: 'string', default: '3' },
      arches: { type: 'string', default: '4' },
      'size-mib': { type: 'string', default: '20' },
      registries: { type: 'string', default: '2' },
      runs: { type: 'string', default: '1' },
      keep: { type: 'boolean', default: false },
      'skip-cli': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return undefined;
  }
  const count = (name: 'repos' | 'arches' | 'size-mib' | 'registries' | 'runs', max: number) => {
    const value = Number(values[name]);
    if (!Number.isInteger(value) || value < 1 || value > max)
      throw new Error(`--${name} must be a whole number from 1 to ${max}, not ${values[name]}\n${USAGE}`);
    return value;
  };
  return {
    shape: {
      repositories: count('repos', 50),
      arches: count('arches', BENCH_ARCHES.length),
      sizeMiB: count('size-mib', 4096),
    },
    registries: count('registries', 10),
    runs: count('runs', 20),
    keep: values.keep,
    cli: !values['skip-cli'],
  };
}

// ---------------------------------------------------------------------------------------------------------------

export async function runE2eBenchmark(args: string[]): Promise<void> {
  const options = parseOptions(args);
  if (!options) return;
  const signals = ['SIGINT', 'SIGTERM'] as const;
  // `on`, not `once`: Ctrl-C reaches this process twice (from the terminal, and relayed by tsx), and a process
  // without a handler left would be ended by tsx before it has stopped its children.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    console.error(`bench: ${signal}: stopping every process this benchmark started, removing its files`);
    void cleanUp().finally(() => process.exit(130));
  };
  for (const signal of signals) process.on(signal, onSignal);
  try {
    await benchmark(options);
  } finally {
    await cleanUp();
    for (const signal of signals) process.off(signal, onSignal);
  }
}

interface Measure {
  key: string;
  label: string;
  times: number[];
  /** CPU-seconds of each run, and (compose-publisher) how they split between the processes. */
  cpu: number[];
  cpuParts: CpuParts[];
}

/** CPU-seconds of one compose-publisher run: the worker with its tools, the Temporal server, the client side. */
interface CpuParts {
  worker: number;
  /** Of `worker`: the node process itself (the SDK, the activities' own code), not the tools it ran. */
  workerNode: number;
  temporal: number;
  client: number;
}

interface WorkerReport {
  label: string;
  via: 'client' | 'cli';
  startupMs: number;
  startupPeakKiB: number;
  afterFirstKiB: number;
  afterRespinKiB: number;
}

interface PublisherRunReport {
  wallMs: number;
  startedAt: number;
  endedAt: number;
  decisions: string;
  history: HistoryProfile;
  /** Events other workflows (the repository locks) wrote while the run ran. */
  otherEvents: Array<{ workflowId: string; events: number }>;
  tools: ToolCall[];
  cpu: CpuParts;
}

async function benchmark(options: BenchOptions): Promise<void> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'compose-publisher-bench-'));
  onCleanup(`the temporary directory ${dir}`, () => {
    if (options.keep) say(`bench: --keep: kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  });
  const trace = installToolShims(join(dir, 'tool-trace'));
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${trace.binDir}:${process.env.PATH ?? ''}` };
  const { shape } = options;
  const imageCount = shape.repositories * shape.arches;

  say(
    `e2e: ${shape.repositories} repositories × ${shape.arches} arches = ${imageCount} images of ${shape.sizeMiB} MiB (random bytes, xz-compressed OCI archives, productmd 1.2), ${options.registries} registries, ${options.runs} run(s) of each way`,
  );
  say(
    `e2e: ${availableParallelism()} cores (${cpus()[0]?.model.trim() ?? '?'}), load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(
        ' ',
      )}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM; node ${process.version}; ${await toolVersion('skopeo')}; ${await toolVersion('buildah')}`,
  );
  say(`e2e: scratch directory ${dir}`);
  say(
    `e2e: the worker and the CLI run ${runsBuilt() ? 'dist/ (built, as installed)' : 'src/ through tsx (dist/ is missing or older than src/; `npm run build` to run them as installed)'}`,
  );

  let phase = Date.now();
  const temporal = await startTemporalDevServer({ dataDir: join(dir, 'temporal') });
  onCleanup('the Temporal dev server', () => temporal.stop());
  const connection = await Connection.connect({ address: temporal.address });
  onCleanup('the Temporal client connection', () => connection.close());
  const client = new Client({ connection, namespace: temporal.namespace });
  const temporalPids = childPidsMatching(['start-dev', '--port', temporal.address.split(':').pop()!]);
  say(
    `e2e: Temporal dev server on ${temporal.address} (${seconds(Date.now() - phase)}; pid ${temporalPids.join(', ') || 'not found: its CPU is not counted'})`,
  );

  phase = Date.now();
  const composes = join(dir, 'composes');
  const base = await makeBenchCompose('Fedora-40-20240401.n.0', shape, {
    dir: composes,
    storage: { root: join(dir, 'image-build', 'storage'), runroot: join(dir, 'image-build', 'run') },
    parallelism: availableParallelism(),
  });
  rmSync(join(dir, 'image-build'), { recursive: true, force: true });
  const totalMiB = base.images.reduce((sum, image) => sum + image.size, 0) / 2 ** 20;
  say(
    `e2e: compose ${base.composeId} built with buildah: ${imageCount} archives, ${totalMiB.toFixed(0)} MiB (${seconds(Date.now() - phase)})`,
  );

  const measures: Measure[] = [
    {
      key: 'a',
      label: 'a) sequential plain tools (xz -d, skopeo copy, buildah manifest)',
      times: [],
      cpu: [],
      cpuParts: [],
    },
    { key: 'b', label: `b) parallel plain tools (${PLAIN_CONCURRENCY} at a time)`, times: [], cpu: [], cpuParts: [] },
    {
      key: 'c',
      label: 'c) compose-publisher, worker running (client: start + result)',
      times: [],
      cpu: [],
      cpuParts: [],
    },
    { key: 'd', label: 'd) identical respin (client: start + result)', times: [], cpu: [], cpuParts: [] },
    ...(options.cli
      ? [
          {
            key: 'c-cli',
            label: "c') compose-publisher publish --wait (CLI process)",
            times: [],
            cpu: [],
            cpuParts: [],
          },
          {
            key: 'd-cli',
            label: "d') identical respin, publish --wait (CLI process)",
            times: [],
            cpu: [],
            cpuParts: [],
          },
        ]
      : []),
  ];
  const measure = (key: string) => measures.find((m) => m.key === key)!;
  const toolProfiles = new Map<string, ToolCall[]>();
  const workerReports: WorkerReport[] = [];
  let profiled: { c?: PublisherRunReport; d?: PublisherRunReport } = {};

  for (let run = 0; run < options.runs; run++) {
    const tag = options.runs > 1 ? ` [run ${run + 1}/${options.runs}]` : '';
    for (const [key, concurrency] of [
      ['a', 1],
      ['b', PLAIN_CONCURRENCY],
    ] as const) {
      const registries = await startRegistries(options.registries, join(dir, `registries-${key}-${run}`));
      const target = {
        registries: registries.servers.map((r) => `${r.host}/bench-${key}-${run}`),
        release: RELEASE,
        indexTags: INDEX_TAGS,
      };
      const work = join(dir, `plain-${key}-${run}`);
      mkdirSync(work, { recursive: true });
      const plainEnv = { ...env, TMPDIR: work };
      const from = Date.now();
      const cpuFrom = waitedChildrenCpuSeconds();
      await publishWithPlainTools(base, target, { concurrency, workDir: work, env: plainEnv });
      const ms = Date.now() - from;
      const cpu = waitedChildrenCpuSeconds() - cpuFrom;
      await verifyPublished(base, target.registries);
      measure(key).times.push(ms);
      measure(key).cpu.push(cpu);
      toolProfiles.set(key, readToolCalls(trace, from, from + ms));
      say(`e2e: ${measure(key).label}: ${seconds(ms)}, ${cpu.toFixed(2)} CPU-s${tag}`);
      rmSync(work, { recursive: true, force: true });
      await registries.stop();
    }

    const pairs = [
      { suffix: '', via: 'client' as const },
      ...(options.cli ? [{ suffix: '-cli', via: 'cli' as const }] : []),
    ];
    for (const [p, { suffix, via }] of pairs.entries()) {
      const day = 2 * (run * pairs.length + p);
      const first = await copyCompose(base, composeIdFor(day, 0), composes);
      const respin = await copyCompose(base, composeIdFor(day, 1), composes);
      const registries = await startRegistries(options.registries, join(dir, `registries-c${suffix}-${run}`));
      const registryUrls = registries.servers.map((r) => `${r.host}/bench-c${suffix}-${run}`);
      const configFile = writeWorkerConfig(join(dir, `worker-c${suffix}-${run}`), {
        temporal,
        taskQueue: `bench-c${suffix}-${run}`,
        registries: registryUrls,
        shape,
      });
      const worker = await startWorker(configFile, join(dir, `worker-c${suffix}-${run}`, 'worker.log'), env, client);
      const cpuOf = { worker: worker.pid, temporal: temporalPids };
      const firstReport = await publishOnce(client, configFile, first, via, trace, cpuOf);
      await verifyPublished(first, registryUrls);
      const afterFirstKiB = peakRssKiB(worker.pid);
      const respinReport = await publishOnce(client, configFile, respin, via, trace, cpuOf);
      await verifyPublished(respin, registryUrls);
      const afterRespinKiB = peakRssKiB(worker.pid);
      await worker.stop();
      await registries.stop();
      rmSync(join(dir, `worker-c${suffix}-${run}`, 'work'), { recursive: true, force: true });
      rmSync(first.root, { recursive: true, force: true });
      rmSync(respin.root, { recursive: true, force: true });
      measure(`c${suffix}`).times.push(firstReport.wallMs);
      measure(`d${suffix}`).times.push(respinReport.wallMs);
      for (const [key, r] of [
        [`c${suffix}`, firstReport],
        [`d${suffix}`, respinReport],
      ] as const) {
        measure(key).cpu.push(r.cpu.worker + r.cpu.temporal + r.cpu.client);
        measure(key).cpuParts.push(r.cpu);
      }
      toolProfiles.set(`c${suffix}`, firstReport.tools);
      toolProfiles.set(`d${suffix}`, respinReport.tools);
      workerReports.push({
        via,
        label: `worker for ${via === 'cli' ? "c')/d')" : 'c)/d)'}${tag}`,
        startupMs: worker.startupMs,
        startupPeakKiB: worker.startupPeakKiB,
        afterFirstKiB,
        afterRespinKiB,
      });
      for (const [key, r] of [
        [`c${suffix}`, firstReport],
        [`d${suffix}`, respinReport],
      ] as const) {
        say(
          `e2e: ${measure(key).label}: ${seconds(r.wallMs)}, ${(r.cpu.worker + r.cpu.temporal + r.cpu.client).toFixed(2)} CPU-s (${r.decisions})${tag}`,
        );
      }
      if (via === 'client') profiled = { c: firstReport, d: respinReport };
    }
  }

  report(options, measures, toolProfiles, workerReports, profiled);
  say();
  say(`e2e: done in ${seconds(Date.now() - started)} (including building the compose and starting servers)`);
}

/** What bin/compose-publisher.js runs: dist/ when it is there and at least as new as every file of src/. */
function runsBuilt(): boolean {
  const built = join(PROJECT, 'dist', 'cli', 'main.js');
  if (!existsSync(built)) return false;
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce(
      (max, entry) =>
        Math.max(max, entry.isDirectory() ? newest(join(dir, entry.name)) : statSync(join(dir, entry.name)).mtimeMs),
      0,
    );
  return statSync(built).mtimeMs >= newest(join(PROJECT, 'src'));
}

function composeIdFor(dayOffset: number, respin: number): string {
  const date = new Date(Date.UTC(2024, 4, 1) + dayOffset * 86_400_000).toISOString().slice(0, 10).replace(/-/g, '');
  return `Fedora-40-${date}.n.${respin}`;
}

async function toolVersion(tool: string): Promise<string> {
  const { stdout } = await execa(tool, ['--version'], { reject: false });
  return stdout.trim() || `${tool} ?`;
}

async function publishOnce(
  client: Client,
  configFile: string,
  compose: BenchCompose,
  via: 'client' | 'cli',
  trace: ToolTrace,
  cpuOf: { worker: number; temporal: number[] },
): Promise<PublisherRunReport> {
  const config = loadConfig(configFile);
  // The client side: this process's own CPU through the client library; the CLI process (a child this process waits
  // for) through publish --wait.
  const clientCpu = via === 'client' ? ownCpuSeconds : waitedChildrenCpuSeconds;
  const temporalCpu = () => cpuOf.temporal.reduce((sum, pid) => sum + processTreeCpuSeconds(pid), 0);
  const cpuFrom: CpuParts = {
    worker: processTreeCpuSeconds(cpuOf.worker),
    workerNode: processOwnCpuSeconds(cpuOf.worker),
    temporal: temporalCpu(),
    client: clientCpu(),
  };
  const startedAt = Date.now();
  if (via === 'client') {
    const run = await startPublishRun(client, config, compose.root);
    if (!run.started) throw new Error(`a run for ${compose.composeId} already existed`);
    await run.handle.result();
  } else {
    const logFile = join(dirname(configFile), `publish-${compose.composeId}.log`);
    const log = openSync(logFile, 'w');
    const child = spawn(process.execPath, [CLI, '--config', configFile, 'publish', compose.root, '--wait'], {
      cwd: PROJECT,
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const code = await exitOf(child);
    if (code !== 0)
      throw new Error(`compose-publisher publish --wait exited with ${code}; its output:\n${tail(logFile)}`);
  }
  const endedAt = Date.now();
  const cpu: CpuParts = {
    client: clientCpu() - cpuFrom.client,
    worker: processTreeCpuSeconds(cpuOf.worker) - cpuFrom.worker,
    workerNode: processOwnCpuSeconds(cpuOf.worker) - cpuFrom.workerNode,
    temporal: temporalCpu() - cpuFrom.temporal,
  };
  const handle = client.workflow.getHandle(`publish:${compose.composeId}`);
  const status = (await handle.result()) as {
    phase: string;
    repositories: Array<{ repository: string; decision: string; error?: string }>;
  };
  const bad = status.repositories.filter((r) => r.decision === 'failed' || r.decision === 'blocked');
  if (status.phase === 'failed' || bad.length > 0) {
    throw new Error(
      `the run of ${compose.composeId} did not publish: ${bad.map((r) => `${r.repository} ${r.decision}${r.error ? `: ${r.error}` : ''}`).join('; ') || status.phase}`,
    );
  }
  const decisions = Object.entries(
    status.repositories.reduce<Record<string, number>>(
      (counts, r) => ({ ...counts, [r.decision]: (counts[r.decision] ?? 0) + 1 }),
      {},
    ),
  )
    .map(([decision, count]) => `${count} ${decision}`)
    .join(', ');
  const history = profileHistory(await handle.fetchHistory());
  const otherEvents: PublisherRunReport['otherEvents'] = [];
  for await (const execution of client.workflow.list()) {
    if (execution.workflowId.startsWith('publish:')) continue;
    if (execution.closeTime && execution.closeTime.getTime() < startedAt) continue;
    if (execution.startTime.getTime() > endedAt) continue;
    const events = eventsWithin(
      await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory(),
      startedAt,
      endedAt,
    );
    if (events > 0) otherEvents.push({ workflowId: execution.workflowId, events });
  }
  return {
    wallMs: endedAt - startedAt,
    startedAt,
    endedAt,
    decisions,
    history,
    otherEvents,
    tools: readToolCalls(trace, startedAt, endedAt),
    cpu,
  };
}

// --- the report ---------------------------------------------------------------------------------------------------

function toolBusyMs(calls: ToolCall[]): number {
  const sorted = [...calls].sort((a, b) => a.startMs - b.startMs);
  let busy = 0;
  let end = -Infinity;
  for (const call of sorted) {
    if (call.endMs <= end) continue;
    busy += call.endMs - Math.max(call.startMs, end);
    end = call.endMs;
  }
  return busy;
}

function report(
  options: BenchOptions,
  measures: Measure[],
  toolProfiles: Map<string, ToolCall[]>,
  workers: WorkerReport[],
  profiled: { c?: PublisherRunReport; d?: PublisherRunReport },
): void {
  const parallel = median(measures.find((m) => m.key === 'b')!.times);
  const parallelCpu = median(measures.find((m) => m.key === 'b')!.cpu);
  const { shape } = options;
  say();
  say(
    `## ${shape.repositories} repositories × ${shape.arches} arches × ${shape.sizeMiB} MiB → ${options.registries} registries (${availableParallelism()} cores)`,
  );
  say();
  say(
    table(
      [
        'way',
        options.runs > 1 ? `wall time (median of ${options.runs})` : 'wall time',
        ...(options.runs > 1 ? ['min – max'] : []),
        '× parallel (b)',
        options.runs > 1 ? `CPU-s (median of ${options.runs})` : 'CPU-s',
        'CPU × parallel (b)',
      ],
      measures.map((m) => [
        m.label,
        seconds(median(m.times)),
        ...(options.runs > 1 ? [`${seconds(Math.min(...m.times))} – ${seconds(Math.max(...m.times))}`] : []),
        (median(m.times) / parallel).toFixed(2),
        median(m.cpu).toFixed(2),
        (median(m.cpu) / parallelCpu).toFixed(2),
      ]),
      options.runs > 1 ? [1, 2, 3, 4, 5] : [1, 2, 3, 4],
    ),
  );
  say(
    "CPU-s (/proc/<pid>/stat, utime+stime+cutime+cstime): for (a) and (b) the tools this process ran (xz, skopeo, buildah); for compose-publisher the worker process with the tools it ran, the Temporal dev server, and the CLI process (c', d') or this process as the client (c, d). The registries are not counted in either.",
  );
  const parted = measures.filter((m) => m.cpuParts.length > 0);
  if (parted.length > 0) {
    say();
    say(
      table(
        [
          'CPU-s by process',
          'worker + its tools',
          'of which the worker (node)',
          'Temporal server',
          'client / CLI process',
        ],
        parted.map((m) => [
          m.label,
          ...(['worker', 'workerNode', 'temporal', 'client'] as const).map((part) =>
            median(m.cpuParts.map((p) => p[part])).toFixed(2),
          ),
        ]),
        [1, 2, 3, 4],
      ),
    );
  }
  say();
  say(
    table(
      [
        'worker process (`compose-publisher worker`, child process)',
        'start → polling',
        'peak RSS once polling',
        'peak RSS after (c)',
        'peak RSS after (d)',
      ],
      workers.map((w) => [
        w.label,
        seconds(w.startupMs),
        ...[w.startupPeakKiB, w.afterFirstKiB, w.afterRespinKiB].map((kib) => `${(kib / 1024).toFixed(0)} MiB`),
      ]),
      [1, 2, 3, 4],
    ),
  );
  say(
    "Peak RSS is the worker process's VmHWM (/proc/<pid>/status): node, the SDK's core and workflow threads; not the skopeo/buildah/xz it runs.",
  );

  const time = (key: string) => {
    const m = measures.find((x) => x.key === key);
    return m && m.times.length > 0 ? median(m.times) : undefined;
  };
  const sequential = time('a')!;
  const targets: string[][] = [];
  const target = (
    what: string,
    value: number | undefined,
    shown: (v: number) => string,
    met: (v: number) => boolean,
  ) => {
    if (value !== undefined) targets.push([what, shown(value), met(value) ? 'yes' : 'no']);
  };
  for (const key of ['c', 'c-cli']) {
    const label = key === 'c' ? '(c)' : "(c')";
    target(
      `${label} ≤ 1.3 × parallel (b)`,
      time(key),
      (v) => `${(v / parallel).toFixed(2)} ×`,
      (v) => v / parallel <= 1.3,
    );
    // Issue 27: the publication's CPU-seconds (the worker, its tools and the Temporal server), without the client.
    const measure = measures.find((m) => m.key === key);
    target(
      `${label} CPU-s of the publication (worker, its tools, Temporal server) ≤ 1.3 × (b)'s`,
      measure && measure.cpuParts.length > 0
        ? median(measure.cpuParts.map((part) => part.worker + part.temporal))
        : undefined,
      (v) => `${v.toFixed(2)} CPU-s, ${(v / parallelCpu).toFixed(2)} ×`,
      (v) => v / parallelCpu <= 1.3,
    );
    target(
      `${label} ≥ 2 × faster than sequential (a)`,
      time(key),
      (v) => `${(sequential / v).toFixed(2)} × faster`,
      (v) => sequential / v >= 2,
    );
  }
  target("identical respin ≤ 1.5 s, publish --wait included (d')", time('d-cli'), seconds, (v) => v <= 1500);
  target('identical respin ≤ 1.5 s through the client (d)', time('d'), seconds, (v) => v <= 1500);
  target(
    `≤ 300 history events for the compose (c${options.runs > 1 ? ', last run' : ''})`,
    profiled.c?.history.events,
    String,
    (v) => v <= 300,
  );
  const clientWorkers = workers.filter((w) => w.via === 'client');
  target(
    `worker peak RSS ≤ 350 MiB for the compose (c${clientWorkers.length > 1 ? `, median of ${clientWorkers.length} runs` : ''})`,
    clientWorkers.length > 0 ? median(clientWorkers.map((w) => w.afterFirstKiB)) : undefined,
    (v) => `${(v / 1024).toFixed(0)} MiB`,
    (v) => v <= 350 * 1024,
  );
  say();
  say(table(['issue 13 and 27 targets (a benchmark, not a test)', 'measured', 'met'], targets, [1]));

  for (const [key, run] of [
    ['c', profiled.c],
    ['d', profiled.d],
  ] as const) {
    if (!run) continue;
    const label = measures.find((m) => m.key === key)!.label;
    const history = run.history;
    say();
    say(`### ${label}${options.runs > 1 ? ' (last run)' : ''}: history`);
    say();
    say(
      `${history.events} history events in the run (first → last event ${seconds(history.wallMs)}); other workflows (repository locks) wrote ${run.otherEvents.reduce((sum, w) => sum + w.events, 0)} events meanwhile${run.otherEvents.length > 0 ? ` (${run.otherEvents.map((w) => `${w.workflowId}: ${w.events}`).join(', ')})` : ''}.`,
    );
    say(
      `Workflow tasks: ${history.workflowTasks.count}, Σ scheduled → completed ${seconds(history.workflowTasks.scheduledToCompletedMs)} (Σ started → completed ${seconds(history.workflowTasks.startedToCompletedMs)}).`,
    );
    say(`Events by type: ${history.eventTypes.map((e) => `${e.type} ${e.count}`).join(', ')}.`);
    say();
    say(
      table(
        [
          'activity type',
          'count',
          'attempts',
          'Σ scheduled → started',
          'Σ started → closed',
          'in flight (first → last)',
        ],
        history.activities.map((a) => [
          a.type,
          String(a.count),
          `${a.attempts}${a.failed ? ` (${a.failed} failed)` : ''}`,
          seconds(a.waitMs),
          seconds(a.runMs),
          seconds(a.spanMs),
        ]),
        [1, 2, 3, 4, 5],
      ),
    );
  }

  for (const measure of measures) {
    const calls = toolProfiles.get(measure.key);
    if (!calls) continue;
    const wall = measure.times[measure.times.length - 1]!;
    const busy = toolBusyMs(calls);
    say();
    say(`### tool calls of ${measure.label}${options.runs > 1 ? ' (last run)' : ''}`);
    say();
    say(
      `${calls.length} calls; some tool was running ${seconds(busy)} of the ${seconds(wall)} (${((busy / wall) * 100).toFixed(0)} %); no tool was running for ${seconds(Math.max(0, wall - busy))}.`,
    );
    say();
    say(
      table(
        ['tool call', 'count', 'Σ duration', 'mean'],
        profileToolCalls(calls).map((row) => [
          `${row.kind}${row.failed ? ` (${row.failed} exit ≠ 0)` : ''}`,
          String(row.count),
          seconds(row.totalMs),
          seconds(row.totalMs / row.count),
        ]),
        [1, 2, 3],
      ),
    );
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runE2eBenchmark(process.argv.slice(2)).then(
    // Everything is stopped by now; exit without waiting for the gRPC client's lingering timers (about 10 s).
    () => process.exit(),
    (error: unknown) => {
      console.error(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
