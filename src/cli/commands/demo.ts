import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { startPublishRun, waitForRun } from '../../client/publish-runs.js';
import { formatStatus } from '../format-status.js';
import { shellQuote } from '../shell-quote.js';
import { parseConfig, publishSettings, type Config } from '../../config.js';
import { makeCompose, type ComposeSpec } from '../../dev/sample-compose.js';
import { COMPOSE_ID_ANNOTATION } from '../../domain/types.js';
import { startRegistry } from '../../dev/registry-server.js';
import { startTemporalDevServer } from '../../dev/temporal-dev-server.js';
import { inspectRemote } from '../../tools/skopeo.js';
import { EMBEDDED_TEMPORAL } from '../../client/connection.js';
import { createPublisherWorker } from '../../worker.js';

const SAMPLES: ComposeSpec[] = [
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

function demoConfig(registryHost: string, dataDir: string): Config {
  return parseConfig(
    `
[temporal]
address = "${EMBEDDED_TEMPORAL.ip}:${EMBEDDED_TEMPORAL.port}"
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
wait_for_override = "10m"

[publish]
work_dir = "${join(dataDir, 'work')}"
`,
    'demo (built-in config)',
  );
}

const say = (line = '') => console.log(line);

/**
 * `compose-publisher demo`: an embedded Temporal server with its UI, a local registry and a worker; two sample
 * composes, the second missing an arch in one repository; both published, then what the registry serves.
 */
export async function runDemoCommand(options: { keep?: boolean; dataDir?: string; uiPort?: number }): Promise<number> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const dataDir = resolve(options.dataDir ?? '.data/demo');
  rmSync(dataDir, { recursive: true, force: true });
  say(`demo: starting Temporal (127.0.0.1:${EMBEDDED_TEMPORAL.port}) and a registry; state under ${dataDir}`);
  const temporal = await startTemporalDevServer({ dataDir: join(dataDir, 'temporal'), port: EMBEDDED_TEMPORAL.port, uiPort: options.uiPort ?? 8233 });
  const registry = await startRegistry({ dataDir: join(dataDir, 'registry') }).catch(async (error: unknown) => {
    await temporal.stop();
    throw error;
  });
  const config = demoConfig(registry.host, dataDir);
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
  try {
    const worker = await createPublisherWorker({ connection: workerConnection, namespace: 'default', taskQueue: config.temporal.task_queue, workDir: config.publish.work_dir, settings: publishSettings(config) });
    await worker.runUntil(async () => {
      for (const sample of SAMPLES) {
        say();
        say(`demo: building sample compose ${sample.composeId} (real OCI images with buildah) …`);
        const compose = await makeCompose(sample, { dir: join(dataDir, 'composes'), storage: { root: join(dataDir, 'factory', 'storage'), runroot: join(dataDir, 'factory', 'run') } });
        say(`demo: compose-publisher publish ${shellQuote(compose.root)} --wait`);
        const run = await startPublishRun(client, config, compose.root);
        const status = await waitForRun(run.handle, run.composeId);
        say(formatStatus(status));
        say();
        say('now published:');
        for (const repository of Object.values(config.repositories)) {
          for (const tag of status.manifestTags) await describePublished(`${config.registries[0]!.url}/${repository}:${tag}`);
        }
      }
    });
    say();
    say(`Temporal UI: ${temporal.uiUrl}  (filter the workflow list with: GateDecision = "blocked")`);
    say(`registry:    http://${registry.host}/v2/_catalog`);
    if (options.keep) {
      say('demo: --keep: Temporal, the registry and a worker keep running; Ctrl-C stops them.');
      await workerUntilSignal(workerConnection, config);
    }
    return 0;
  } finally {
    await client.connection.close();
    await workerConnection.close();
    await Promise.allSettled([registry.stop(), temporal.stop()]);
  }
}

async function describePublished(reference: string): Promise<void> {
  const manifest = await inspectRemote(reference, { tlsVerify: false });
  if (manifest.kind === 'absent') return say(`  ${reference}: (nothing)`);
  if (manifest.kind === 'image') return say(`  ${reference}: single-arch ${manifest.architecture} ${manifest.digest}`);
  say(`  ${reference}: index ${manifest.digest}`);
  for (const instance of manifest.instances) {
    say(`    ${instance.architecture.padEnd(8)} ${instance.digest}  from ${instance.annotations[COMPOSE_ID_ANNOTATION] ?? '?'}`);
  }
}

async function workerUntilSignal(connection: NativeConnection, config: Config): Promise<void> {
  const worker = await createPublisherWorker({ connection, namespace: 'default', taskQueue: config.temporal.task_queue, workDir: config.publish.work_dir, settings: publishSettings(config) });
  await worker.run();
}
