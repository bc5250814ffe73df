/**
 * The index write alone (issue 27, "one write per index and tag"): one repository of A arch images on a loopback
 * registry, its index written to two tags R times each way, alternating, wall time and CPU-seconds (the tools', and this process's own):
 *   - buildah (as pushManifest did before): manifest create, add + annotate per instance, push --all per tag, rmi;
 *   - composed (writeIndex now): read each instance's manifest and config (registry requests from this process, all
 *     at once), compose the index, one manifest PUT per tag;
 *   - composed, platform known: the same without the config reads (an IndexInstance that carries its platform).
 * The compare-before-write and read-back inspections are the same both ways and left out.
 *
 *   npx tsx bench/index-write.ts [--arches 4] [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { composeIndex, describeInstance } from '../src/domain/compose-index.js';
import { manifestAdd, manifestAnnotate, manifestCreate, manifestPush, removeImages } from '../src/tools/buildah.js';
import { putIndex, readRemoteConfig, readRemoteManifest } from '../src/tools/registry-api.js';
import { BENCH_ARCHES, makeBenchCompose } from './compose.js';
import { ownCpuSeconds, waitedChildrenCpuSeconds } from './cpu.js';
import { cleanUp, median, onCleanup, say, startRegistries, table } from './harness.js';
import { copyToRegistry } from '../src/tools/skopeo.js';

const access = { tlsVerify: false };

export async function runIndexWrite(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { arches: { type: 'string', default: '4' }, runs: { type: 'string', default: '5' } },
    strict: true,
  });
  const arches = Number(values.arches);
  const runs = Number(values.runs);
  const dir = mkdtempSync(join(tmpdir(), 'compose-publisher-index-write-'));
  onCleanup(`the temporary directory ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
  const storage = { root: join(dir, 'storage'), runroot: join(dir, 'run') };
  const compose = await makeBenchCompose(
    'Fedora-40-20240401.n.0',
    { repositories: 1, arches, sizeMiB: 1 },
    {
      dir: join(dir, 'compose'),
      storage: { root: join(dir, 'build'), runroot: join(dir, 'build-run') },
      parallelism: 2,
    },
  );
  const registries = await startRegistries(1, join(dir, 'registry'));
  const where = `${registries.servers[0]!.host}/bench/${compose.images[0]!.repository.repository}`;
  const instances: Array<{ digest: string; ociArch: string }> = [];
  for (const image of compose.images) {
    const tar = join(dir, `${image.composeArch}.tar`);
    const { execa } = await import('execa');
    await execa('xz', ['-dc', image.path], { stdout: { file: tar } });
    const digest = await copyToRegistry(
      `oci-archive:${tar}`,
      `${where}:40-${image.composeArch}`,
      access,
      join(dir, 'd'),
    );
    instances.push({ digest, ociArch: BENCH_ARCHES.find(([c]) => c === image.composeArch)![1] });
  }
  say(
    `index-write: ${arches} instances, 2 tags, ${runs} runs of each way; load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const ways: Record<string, (run: number) => Promise<void>> = {
    buildah: async (run) => {
      const list = `localhost/bench-index/list-${run}`;
      await manifestCreate(storage, list);
      for (const instance of instances) {
        const added = await manifestAdd(storage, list, `${where}@${instance.digest}`, access);
        await manifestAnnotate(storage, list, added, { 'org.fedoraproject.compose.id': compose.composeId });
      }
      for (const tag of ['40', 'latest'])
        await manifestPush(storage, list, `${where}:${tag}`, access, join(dir, 'digest'));
      await removeImages(storage, [list]);
    },
    composed: (run) => composed(run, false),
    'composed, platform known': (run) => composed(run, true),
  };
  async function composed(run: number, platformKnown: boolean) {
    const descriptors = await Promise.all(
      instances.map(async (instance) => {
        const reference = `${where}@${instance.digest}`;
        const [rawManifest, platform] = await Promise.all([
          readRemoteManifest(reference, access),
          platformKnown ? { architecture: instance.ociArch, os: 'linux' } : readRemoteConfig(reference, access),
        ]);
        return describeInstance({ digest: instance.digest, rawManifest, platform, composeId: compose.composeId });
      }),
    );
    const index = composeIndex(descriptors);
    for (const tag of ['40', 'latest']) await putIndex(`${where}:${tag}`, index, access);
  }
  const results = new Map<string, Array<{ ms: number; cpu: number }>>(Object.keys(ways).map((w) => [w, []]));
  for (let run = 0; run < runs; run++) {
    for (const [name, way] of Object.entries(ways)) {
      // The tools' CPU and this process's own (the registry requests composed makes itself).
      const cpu = waitedChildrenCpuSeconds() + ownCpuSeconds();
      const started = performance.now();
      await way(run);
      results
        .get(name)!
        .push({ ms: performance.now() - started, cpu: waitedChildrenCpuSeconds() + ownCpuSeconds() - cpu });
    }
  }
  const base = results.get('buildah')!;
  say();
  say(
    table(
      ['one index, 2 tags', `wall, median of ${runs}`, '× buildah', 'CPU-s (tools + this process)', '× buildah'],
      [...results].map(([name, list]) => {
        const ms = median(list.map((r) => r.ms));
        const cpu = median(list.map((r) => r.cpu));
        return [
          name,
          `${(ms / 1000).toFixed(2)} s`,
          (ms / median(base.map((r) => r.ms))).toFixed(2),
          cpu.toFixed(2),
          (cpu / median(base.map((r) => r.cpu))).toFixed(2),
        ];
      }),
      [1, 2, 3, 4],
    ),
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  runIndexWrite(process.argv.slice(2))
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
