/**
 * `npx tsx bench/signing.ts [--size-mib N]`: the time [signing] adds to a publication. One compose (3 repositories ×
 * 4 arches, two loopback registries) is published twice by a worker process as `compose-publisher worker` runs it:
 * once without [signing], once with a cosign key, each to registries of its own; then each again (an identical
 * respin). Prints the wall time of each, and what signing adds per run and per signed digest.
 */
import { availableParallelism } from 'node:os';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { execa } from 'execa';
import { startTemporalDevServer } from '../src/dev/temporal-dev-server.js';
import { publishWorkflowId, type PublishStatus } from '../src/domain/run-contract/index.js';
import { cosignPath } from '../src/tools/cosign.js';
import { publishCompose } from '../src/workflows/publish-compose.js';
import { makeBenchCompose, type ComposeShape } from './compose.js';
import {
  cleanUp,
  onCleanup,
  say,
  seconds,
  startRegistries,
  startWorker,
  table,
  verifyPublished,
  writeWorkerConfig,
} from './harness.js';

const PASSPHRASE = 'bench passphrase';

export async function runSigningBenchmark(args: string[]): Promise<void> {
  const sizeArg = args.indexOf('--size-mib');
  const shape: ComposeShape = {
    repositories: 3,
    arches: 4,
    sizeMiB: sizeArg >= 0 ? Number(args[sizeArg + 1]) : 5,
  };
  const dir = mkdtempSync(join(tmpdir(), 'compose-publisher-bench-signing-'));
  onCleanup(`the temporary directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const temporal = await startTemporalDevServer({ dataDir: join(dir, 'temporal') });
  onCleanup('the Temporal dev server', () => temporal.stop());
  const connection = await Connection.connect({ address: temporal.address });
  onCleanup('the Temporal client connection', () => connection.close());
  const client = new Client({ connection, namespace: temporal.namespace });
  const { servers } = await startRegistries(2, join(dir, 'registries'));
  const compose = await makeBenchCompose('Fedora-40-20240401.n.0', shape, {
    dir: join(dir, 'composes'),
    storage: { root: join(dir, 'image-build', 'storage'), runroot: join(dir, 'image-build', 'run') },
    parallelism: availableParallelism(),
  });
  await execa(cosignPath(), ['generate-key-pair', '--output-key-prefix', join(dir, 'cosign')], {
    env: { COSIGN_PASSWORD: PASSPHRASE },
  });
  say(
    `signing: ${shape.repositories} repositories × ${shape.arches} arches of ${shape.sizeMiB} MiB, 2 registries; cosign ${cosignPath()}`,
  );

  const rows: string[][] = [];
  const results: Record<string, { first: number; respin: number; digests: number }> = {};
  for (const way of ['unsigned', 'signed'] as const) {
    const registries = servers.map((server) => `${server.host}/${way}`);
    const taskQueue = `bench-signing-${way}`;
    const config = writeWorkerConfig(join(dir, way), { temporal, taskQueue, registries, shape });
    if (way === 'signed')
      appendFileSync(
        config,
        `\n[signing]\nprivate_key = "${join(dir, 'cosign.key')}"\npassphrase_env = "SIGSTORE_PASSPHRASE"\npublic_keys = ["${join(dir, 'cosign.pub')}"]\n`,
      );
    const worker = await startWorker(
      config,
      join(dir, `${way}.log`),
      { ...process.env, SIGSTORE_PASSPHRASE: PASSPHRASE },
      client,
    );
    const publish = async (attempt: string): Promise<{ ms: number; status: PublishStatus }> => {
      const from = Date.now();
      const status = await client.workflow.execute(publishCompose, {
        taskQueue,
        workflowId: `${publishWorkflowId(compose.composeId)}:${way}:${attempt}`,
        args: [{ location: compose.root, composeId: compose.composeId }],
      });
      return { ms: Date.now() - from, status };
    };
    const first = await publish('first');
    await verifyPublished(compose, registries);
    const respin = await publish('respin');
    await worker.stop();
    const digests = first.status.repositories.reduce((sum, r) => sum + (r.signatures?.length ?? 0), 0);
    results[way] = { first: first.ms, respin: respin.ms, digests };
    rows.push([way, seconds(first.ms), seconds(respin.ms), String(digests)]);
  }
  say();
  say(table(['way', 'first publication', 'identical respin', 'digests signed'], rows, [1, 2, 3]));
  const added = results.signed!.first - results.unsigned!.first;
  say();
  say(
    `signing adds ${seconds(added)} to the first publication (${((results.signed!.first / results.unsigned!.first) * 100 - 100).toFixed(0)} %), ${seconds(added / Math.max(1, results.signed!.digests))} per signed digest; ${seconds(results.signed!.respin - results.unsigned!.respin)} to an identical respin`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    await runSigningBenchmark(process.argv.slice(2));
  } finally {
    await cleanUp();
  }
  process.exit();
}
