/**
 * The benchmark's compose: R repositories × A arches of real OCI images built with buildah, each holding one file of
 * S MiB of random bytes, as xz-compressed OCI archives with productmd 1.2 metadata laid out as Pungi does.
 *
 * src/dev/sample-compose.ts (makeCompose) builds images of a few bytes only, so the images are built here, the same
 * way (buildah from scratch → copy → config → commit → push oci-archive → xz). A respin (`copyCompose`) is the same
 * image files under a new compose id, byte for byte (hard links), with its own metadata.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { execa } from 'execa';
import { storageArgs, type ContainerStorage } from '../src/tools/storage.js';
import { pool } from '../src/tools/pool.js';

/** compose arch → OCI arch, in the order arches are taken. */
export const BENCH_ARCHES: Array<[composeArch: string, ociArch: string]> = [
  ['x86_64', 'amd64'],
  ['aarch64', 'arm64'],
  ['ppc64le', 'ppc64le'],
  ['s390x', 's390x'],
  ['riscv64', 'riscv64'],
];

/** Fedora's first three container repositories, then made-up ones. */
const KNOWN_REPOSITORIES: Array<[subvariant: string, repository: string, fileKind: string]> = [
  ['Container_Base', 'fedora', 'Base-Generic'],
  ['Container_Minimal_Base', 'fedora-minimal', 'Minimal-Base'],
  ['Container_Toolbox', 'fedora-toolbox', 'Toolbox'],
];

export interface BenchRepository {
  subvariant: string;
  repository: string;
  fileKind: string;
}

export function benchRepositories(count: number): BenchRepository[] {
  return Array.from({ length: count }, (_, i) => {
    const known = KNOWN_REPOSITORIES[i];
    if (known) return { subvariant: known[0], repository: known[1], fileKind: known[2] };
    return { subvariant: `Container_Bench_${i + 1}`, repository: `fedora-bench-${i + 1}`, fileKind: `Bench-${i + 1}` };
  });
}

export interface BenchImage {
  repository: BenchRepository;
  composeArch: string;
  ociArch: string;
  /** Absolute path of the .oci.tar.xz in the compose. */
  path: string;
  /** Path relative to the compose root (images.json's path). */
  relativePath: string;
  sha256: string;
  size: number;
}

export interface BenchCompose {
  composeId: string;
  /** The directory that holds metadata/ (what a run is given). */
  root: string;
  images: BenchImage[];
}

export interface ComposeShape {
  repositories: number;
  arches: number;
  sizeMiB: number;
}

/** Builds the images (two at a time, or as many as there are cores) and writes the compose. */
export async function makeBenchCompose(
  composeId: string,
  shape: ComposeShape,
  options: {
    dir: string;
    storage: ContainerStorage;
    parallelism: number;
    onImage?: (image: BenchImage, ms: number) => void;
  },
): Promise<BenchCompose> {
  const root = join(options.dir, composeId, 'compose');
  const jobs = benchRepositories(shape.repositories).flatMap((repository) =>
    BENCH_ARCHES.slice(0, shape.arches).map(([composeArch, ociArch]) => ({ repository, composeArch, ociArch })),
  );
  const images = await pool(jobs, options.parallelism, async (job) => {
    const started = Date.now();
    const relativePath = imagePath(composeId, job.repository, job.composeArch);
    const path = join(root, relativePath);
    await mkdir(join(path, '..'), { recursive: true });
    await buildImage({ composeId, ...job, sizeMiB: shape.sizeMiB }, path, options);
    const image: BenchImage = {
      ...job,
      path,
      relativePath,
      sha256: await sha256File(path),
      size: (await stat(path)).size,
    };
    options.onImage?.(image, Date.now() - started);
    return image;
  });
  const compose = { composeId, root, images };
  await writeMetadata(compose);
  return compose;
}

/** The same image files (hard links: byte-identical) under a new compose id, with that compose's metadata. */
export async function copyCompose(source: BenchCompose, composeId: string, dir: string): Promise<BenchCompose> {
  const root = join(dir, composeId, 'compose');
  const images: BenchImage[] = [];
  for (const image of source.images) {
    const relativePath = imagePath(composeId, image.repository, image.composeArch);
    const path = join(root, relativePath);
    await mkdir(join(path, '..'), { recursive: true });
    await link(image.path, path);
    images.push({ ...image, path, relativePath });
  }
  const compose = { composeId, root, images };
  await writeMetadata(compose);
  return compose;
}

/** Fedora's layout and file names: Container/x86_64/images/Fedora-Container-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz */
function imagePath(composeId: string, repository: BenchRepository, composeArch: string): string {
  const [, version, rest] = /^Fedora-(\w+)-(.*)$/.exec(composeId) ?? [];
  if (!version || !rest) throw new Error(`bench compose ids look like Fedora-40-20240501.n.0, not ${composeId}`);
  return join(
    'Container',
    composeArch,
    'images',
    `Fedora-Container-${repository.fileKind}-${version}-${rest}.${composeArch}.oci.tar.xz`,
  );
}

/**
 * buildah from scratch → a file of random bytes → arch, os and the compose id label → commit (OCI) → push to an
 * oci-archive → xz. xz runs at level 0: random bytes do not compress, and level 6 would take 14 s per 20 MiB image
 * here; unpacking (what publishing does) is as fast at any level for such data.
 */
async function buildImage(
  image: { composeId: string; repository: BenchRepository; composeArch: string; ociArch: string; sizeMiB: number },
  target: string,
  options: { dir: string; storage: ContainerStorage },
): Promise<void> {
  const buildah = (args: string[]) => execa('buildah', [...storageArgs(options.storage), ...args]);
  const work = join(options.dir, 'image-work', `${image.repository.subvariant}-${image.composeArch}`);
  await mkdir(work, { recursive: true });
  try {
    const payload = join(work, 'payload.bin');
    await writeRandomFile(payload, image.sizeMiB * 1024 * 1024);
    const name = `localhost/compose-publisher-bench/${image.repository.repository}:${image.composeArch}`;
    const container = (await buildah(['from', '--quiet', 'scratch'])).stdout.trim();
    try {
      await buildah(['copy', '--quiet', container, payload, '/payload.bin']);
      await buildah([
        'config',
        '--arch',
        image.ociArch,
        '--os',
        'linux',
        '--label',
        `org.fedoraproject.compose.id=${image.composeId}`,
        container,
      ]);
      await buildah(['commit', '--quiet', '--format', 'oci', container, name]);
    } finally {
      await buildah(['rm', container]);
    }
    try {
      const archive = join(work, 'image.tar');
      await buildah(['push', '--quiet', name, `oci-archive:${archive}`]);
      await execa('xz', ['-0', '-T1', '--compress', '--stdout', archive], { stdout: { file: `${target}.part` } });
      await execa('mv', [`${target}.part`, target]);
    } finally {
      await buildah(['rmi', name]).catch(() => undefined);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function writeRandomFile(file: string, bytes: number): Promise<void> {
  const out = createWriteStream(file);
  const chunk = 1024 * 1024;
  for (let written = 0; written < bytes; written += chunk) {
    if (!out.write(randomBytes(Math.min(chunk, bytes - written))))
      await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** productmd 1.2 composeinfo.json and images.json, as Pungi writes them (and as src/dev/sample-compose.ts does). */
async function writeMetadata(compose: BenchCompose): Promise<void> {
  const match = /^Fedora-(\w+)-(\d{8})\.n\.(\d+)$/.exec(compose.composeId);
  if (!match) throw new Error(`bench compose ids look like Fedora-40-20240501.n.0, not ${compose.composeId}`);
  const [, version, date, respin] = match;
  const header = { id: compose.composeId, date: date!, respin: Number(respin), type: 'nightly', label: null };
  const arches = [...new Set(compose.images.map((image) => image.composeArch))].sort();
  const composeInfo = {
    header: { type: 'productmd.composeinfo', version: '1.2' },
    payload: {
      compose: header,
      release: { internal: false, name: 'Fedora', short: 'Fedora', type: 'ga', version: version!, is_layered: false },
      variants: {
        Container: {
          arches,
          id: 'Container',
          name: 'Container',
          type: 'variant',
          uid: 'Container',
          paths: { images: Object.fromEntries(arches.map((arch) => [arch, `Container/${arch}/images`])) },
        },
      },
    },
  };
  const byArch: Record<string, unknown[]> = {};
  for (const image of compose.images) {
    (byArch[image.composeArch] ??= []).push({
      arch: image.composeArch,
      bootable: false,
      checksums: { sha256: image.sha256 },
      disc_count: 1,
      disc_number: 1,
      format: 'tar.xz',
      implant_md5: null,
      mtime: 1714550400,
      path: image.relativePath,
      size: image.size,
      subvariant: image.repository.subvariant,
      type: 'container',
      volume_id: null,
    });
  }
  const images = {
    header: { type: 'productmd.images', version: '1.2' },
    payload: { compose: header, images: { Container: byArch } },
  };
  await mkdir(join(compose.root, 'metadata'), { recursive: true });
  await writeFile(join(compose.root, 'metadata', 'composeinfo.json'), JSON.stringify(composeInfo, null, 2));
  await writeFile(join(compose.root, 'metadata', 'images.json'), JSON.stringify(images, null, 2));
}
