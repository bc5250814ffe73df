import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startPublishRun, waitForRun } from '../../client/publish-runs.js';
import { formatStatus } from '../format-status.js';
import { runStalenessReport } from '../../client/staleness.js';
import { formatReport } from './report.js';
import { shellQuote } from '../shell-quote.js';
import { parseConfig, publishSettings } from '../../config.js';
import { makeCompose, type ComposeSpec } from '../../dev/sample-compose.js';
import { COMPOSE_ID_ANNOTATION } from '../../domain/types.js';
import { startRegistry } from '../../dev/registry-server.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';
import { preferredPort } from '../../dev/free-port.js';
import { inspectRemote } from '../../tools/skopeo.js';
import { EMBEDDED_TEMPORAL } from '../../client/connection.js';
import { createPublisherWorker } from '../../worker.js';
import { GATE_DECISION } from '../../domain/run-contract/index.js';

/** The demo's sample composes, built under <data dir>/composes (README "Using it" publishes the first). */
export const SAMPLES: ComposeSpec[] = [
  {
    composeId: 'Fedora-40-20240501.n.0',
    images: { Container_Base: ['x86_64', 'aarch64'], Container_Minimal_Base: ['x86_64', 'aarch64'] },
    format: '1.2',
  },
  {
    // aarch64 failed for Container_Base in this compose: the fedora index must not lose arm64.
    composeId: 'Fedora-40-20240502.n.0',
    images: { Container_Base: ['x86_64'], Container_Minimal_Base: ['x86_64', 'aarch64'] },
    format: '2.0',
  },
];

function demoConfigText(temporalAddress: string, registryHost: string, dataDir: string): string {
  return `# Written by \`compose-publisher demo\`: its Temporal server, registry and worker, while the demo runs.
[temporal]
address = "${temporalAddress}"
task_queue = "compose-publisher-demo"

[[registries]]
url = "${registryHost}/fedora"
tls_verify = false

[repositories]
Container_Base = "fedora"
Container_Minimal_Base = "fedora-minimal"

[architectures]
x86_64 = "amd64"
aarch64 = "arm64"

[releases]
latest = "40"

[gate]
wait_for_override = "1h"

[publish]
work_dir = "${join(dataDir, 'work')}"
`;
}

const say = (line = '') => console.log(line);

export interface DemoOptions {
  /** Keep the stack running after the story until Ctrl-C (default: yes, except when CI is set). */
  keep?: boolean;
  dataDir?: string;
  /** Default 8233, or a free port when that one is taken. */
  uiPort?: number;
}

/**
 * `compose-publisher demo`: an embedded Temporal server with its UI, a local registry and a worker; two sample
 * composes, the second missing an arch in one repository; both published, then what the registry serves. Then the
 * stack stays up for exploring (the UI, `status`, `override` with the config file it wrote) until Ctrl-C.
 */
export async function runDemoCommand(options: DemoOptions): Promise<number> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const keep = options.keep ?? !process.env.CI;
  const dataDir = resolve(options.dataDir ?? '.data/demo');
  rmSync(dataDir, { recursive: true, force: true });
  const port = await preferredPort(EMBEDDED_TEMPORAL.port);
  const uiPort = options.uiPort ?? (await preferredPort(DEFAULT_UI_PORT));
  say(`demo: starting Temporal (127.0.0.1:${port}, UI :${uiPort}) and a registry; state under ${dataDir}`);
  const temporal = await startTemporalDevServer({ dataDir: join(dataDir, 'temporal'), port, uiPort });
  const registry = await startRegistry({ dataDir: join(dataDir, 'registry') }).catch(async (error: unknown) => {
    await temporal.stop();
    throw error;
  });
  const configFile = join(dataDir, 'compose-publisher.toml');
  const configText = demoConfigText(temporal.address, registry.host, dataDir);
  writeFileSync(configFile, configText);
  const config = parseConfig(configText, configFile);
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  try {
    const worker = await createPublisherWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue: config.temporal.task_queue,
      workDir: config.publish.work_dir,
      settings: publishSettings(config),
    });
    const blocked: Array<{ composeId: string; repository: string }> = [];
    await worker.runUntil(async () => {
      for (const sample of SAMPLES) {
        say();
        say(`demo: building sample compose ${sample.composeId} (real OCI images with buildah) …`);
        const compose = await makeCompose(sample, {
          dir: join(dataDir, 'composes'),
          storage: { root: join(dataDir, 'factory', 'storage'), runroot: join(dataDir, 'factory', 'run') },
        });
        say(`demo: compose-publisher publish ${shellQuote(compose.root)} --wait`);
        const run = await startPublishRun(client, config, compose.root);
        const status = await waitForRun(run.handle, run.composeId);
        say(formatStatus(status));
        say();
        say('now published:');
        for (const repository of Object.values(config.repositories)) {
          for (const tag of status.manifestTags)
            await describePublished(`${config.registries[0]!.url}/${repository}:${tag}`);
        }
        for (const r of status.repositories)
          if (r.awaitingOverrideUntil) blocked.push({ composeId: status.composeId, repository: r.repository });
      }
      say();
      say('demo: compose-publisher report   (how far each published arch lags; the blocked arch shows here)');
      for (const line of formatReport(await runStalenessReport(client, config))) say(line);
      say();
      for (const line of closingNote({
        uiUrl: temporal.uiUrl!,
        registryHost: registry.host,
        configFile,
        blocked,
        keep,
      }))
        say(line);
      if (keep) await untilInterrupted();
    });
    return 0;
  } finally {
    await client.connection.close();
    await workerConnection.close();
    await Promise.allSettled([registry.stop(), temporal.stop()]);
  }
}

const DEFAULT_UI_PORT = 8233;
const BLOCKED_QUERY = `\`${GATE_DECISION.name}\` = "blocked"`;

/** What to do next: the UI's list of blocked runs, the registry, and the CLI commands with the demo's config. */
export function closingNote(demo: {
  uiUrl: string;
  registryHost: string;
  configFile: string;
  blocked: Array<{ composeId: string; repository: string }>;
  keep: boolean;
}): string[] {
  const cli = `npx compose-publisher --config ${shellQuote(demo.configFile)}`;
  const lines = [
    `Temporal UI:  ${demo.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(BLOCKED_QUERY)}`,
    `  (the workflow list filtered with: ${BLOCKED_QUERY}; open a run, tab "User Metadata" for its decisions)`,
    `registry:     http://${demo.registryHost}/v2/_catalog`,
    `config:       ${demo.configFile}`,
  ];
  for (const { composeId, repository } of demo.blocked) {
    lines.push(
      '',
      `${composeId} is blocked for ${repository}; try:`,
      `  ${cli} status ${shellQuote(composeId)}`,
      `  ${cli} report`,
      `  ${cli} override ${shellQuote(composeId)} --repository ${shellQuote(repository)} --mode hybrid --reason ${shellQuote('aarch64 build failed')}`,
      `  (or in the UI: More Actions → Send an Update, name override, data {"repository": "${repository}", "mode": "hybrid", "reason": "…", "operator": "…"})`,
    );
  }
  lines.push(
    '',
    demo.keep
      ? 'demo: Temporal, the registry and a worker keep running; Ctrl-C stops them.'
      : 'demo: stopping everything (--no-keep, or CI is set).',
  );
  return lines;
}

function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

async function describePublished(reference: string): Promise<void> {
  const manifest = await inspectRemote(reference, { tlsVerify: false });
  if (manifest.kind === 'absent') return say(`  ${reference}: (nothing)`);
  if (manifest.kind === 'image') return say(`  ${reference}: single-arch ${manifest.architecture} ${manifest.digest}`);
  say(`  ${reference}: index ${manifest.digest}`);
  for (const instance of manifest.instances) {
    say(
      `    ${instance.architecture.padEnd(8)} ${instance.digest}  from ${instance.annotations[COMPOSE_ID_ANNOTATION] ?? '?'}`,
    );
  }
}
