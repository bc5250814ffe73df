import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { storageArgs, type ContainerStorage } from '../tools/storage.js';

/**
 * Makes a real compose on disk, as Pungi lays it out: xz-compressed OCI archives of real (tiny) images built with
 * buildah, and productmd metadata (composeinfo.json, images.json) in format 1.2 or 2.0. Used by the demo and tests.
 */
export interface ComposeSpec {
  /** e.g. Fedora-40-20240501.n.0 or Fedora-Rawhide-20240501.n.1 */
  composeId: string;
  /** subvariant → compose arches built, e.g. { Container_Base: ['x86_64', 'aarch64'] } */
  images: Record<string, string[]>;
  format: '1.2' | '2.0';
  faults?: {
    breakChecksum?: { subvariant: string; arch: string };
    malformedJson?: 'composeinfo' | 'images';
  };
}

export interface MadeImage {
  subvariant: string;
  composeArch: string;
  ociArch: string;
  /** Absolute path of the .oci.tar.xz file. */
  path: string;
  sha256: string;
  size: number;
  fileName: string;
}

export interface MadeCompose {
  /** The compose top directory (the one holding metadata/). */
  root: string;
  composeId: string;
  images: MadeImage[];
}

export const OCI_ARCH: Record<string, string> = { x86_64: 'amd64', aarch64: 'arm64', ppc64le: 'ppc64le', s390x: 's390x' };

export async function makeCompose(spec: ComposeSpec, options: { dir: string; storage: ContainerStorage }): Promise<MadeCompose> {
  const { releaseVersion, date, respin, type } = describeId(spec.composeId);
  const root = join(options.dir, spec.composeId, 'compose');
  const jobs = Object.entries(spec.images).flatMap(([subvariant, arches]) => arches.map((arch) => ({ subvariant, arch })));
  const images: MadeImage[] = [];
  // Two at a time: the machines this runs on have two cores.
  for (let i = 0; i < jobs.length; i += 2) {
    images.push(...(await Promise.all(jobs.slice(i, i + 2).map(({ subvariant, arch }) => makeImage(spec.composeId, subvariant, arch, root, options)))));
  }
  const broken = spec.faults?.breakChecksum;
  const listed = images.map((image) =>
    broken && broken.subvariant === image.subvariant && broken.arch === image.composeArch ? { ...image, sha256: 'f'.repeat(64) } : image,
  );
  const compose = { id: spec.composeId, date, respin, type, label: null };
  mkdirSync(join(root, 'metadata'), { recursive: true });
  writeMetadata(join(root, 'metadata', 'composeinfo.json'), composeInfo(compose, releaseVersion, spec.format), spec.faults?.malformedJson === 'composeinfo');
  writeMetadata(join(root, 'metadata', 'images.json'), imagesJson(compose, listed, root, spec.format), spec.faults?.malformedJson === 'images');
  return { root, composeId: spec.composeId, images };
}

function describeId(composeId: string) {
  const match = /^Fedora-(\w+)-(\d{8})(?:\.(n|t))?\.(\d+)$/.exec(composeId);
  if (!match) throw new Error(`sample compose ids look like Fedora-40-20240501.n.0, not ${composeId}`);
  const [, releaseVersion, date, label, respin] = match;
  return { releaseVersion: releaseVersion!, date: date!, respin: Number(respin), type: label === 'n' ? 'nightly' : label === 't' ? 'test' : 'production' };
}

/** Fedora's file name: Fedora-Container-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz */
function fileNameOf(composeId: string, subvariant: string, arch: string): string {
  const kind = { Container_Base: 'Base-Generic', Container_Minimal_Base: 'Minimal-Base', Container_Toolbox: 'Toolbox' }[subvariant] ?? subvariant.replace(/^Container_/, '').replace(/_/g, '-');
  const [, version, rest] = /^Fedora-(\w+)-(.*)$/.exec(composeId)!;
  return `Fedora-Container-${kind}-${version}-${rest}.${arch}.oci.tar.xz`;
}

async function makeImage(composeId: string, subvariant: string, arch: string, root: string, options: { dir: string; storage: ContainerStorage }): Promise<MadeImage> {
  const fileName = fileNameOf(composeId, subvariant, arch);
  const cached = join(options.dir, 'image-cache', fileName);
  if (!existsSync(cached)) await buildArchive(composeId, subvariant, arch, cached, options);
  const target = join(root, 'Container', arch, 'images', fileName);
  mkdirSync(join(root, 'Container', arch, 'images'), { recursive: true });
  const bytes = readFileSync(cached);
  writeFileSync(target, bytes);
  return {
    subvariant,
    composeArch: arch,
    ociArch: OCI_ARCH[arch] ?? arch,
    path: target,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    size: statSync(target).size,
    fileName,
  };
}

/** buildah from scratch → one file unique to compose, subvariant and arch → commit → oci-archive → xz. */
async function buildArchive(composeId: string, subvariant: string, arch: string, target: string, options: { dir: string; storage: ContainerStorage }): Promise<void> {
  const buildah = (args: string[]) => execa('buildah', [...storageArgs(options.storage), ...args]);
  const work = join(options.dir, 'image-work', `${composeId}-${subvariant}-${arch}`);
  mkdirSync(work, { recursive: true });
  mkdirSync(join(options.dir, 'image-cache'), { recursive: true });
  const payload = join(work, 'compose-id');
  writeFileSync(payload, `${composeId} ${subvariant} ${arch}\n`);
  const image = `localhost/sample-compose/${subvariant.toLowerCase()}:${composeId.toLowerCase()}-${arch}`;
  const container = (await buildah(['from', '--quiet', 'scratch'])).stdout.trim();
  try {
    await buildah(['copy', '--quiet', container, payload, '/etc/compose-id']);
    await buildah(['config', '--arch', OCI_ARCH[arch] ?? arch, '--os', 'linux', '--label', `org.fedoraproject.compose.id=${composeId}`, container]);
    await buildah(['commit', '--quiet', '--format', 'oci', container, image]);
  } finally {
    await buildah(['rm', container]);
  }
  try {
    const archive = join(work, 'image.oci.tar');
    await buildah(['push', '--quiet', image, `oci-archive:${archive}`]);
    await execa('xz', ['-T1', '--compress', '--stdout', archive], { stdout: { file: `${target}.part` } });
    await execa('mv', [`${target}.part`, target]);
  } finally {
    await buildah(['rmi', image]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

function writeMetadata(file: string, document: unknown, malformed: boolean): void {
  const text = JSON.stringify(document, null, 2);
  writeFileSync(file, malformed ? text.slice(0, Math.floor(text.length / 2)) : text);
}

type ComposeHeader = { id: string; date: string; respin: number; type: string; label: null };

function composeInfo(compose: ComposeHeader, version: string, format: '1.2' | '2.0') {
  return {
    header: { type: 'productmd.composeinfo', version: format },
    payload: {
      compose,
      release: { internal: false, name: 'Fedora', short: 'Fedora', type: 'ga', version, is_layered: false },
      variants: {
        Container: {
          arches: [...new Set(Object.keys(OCI_ARCH))].sort(),
          id: 'Container',
          name: 'Container',
          type: 'variant',
          uid: 'Container',
          paths: { images: Object.fromEntries(Object.keys(OCI_ARCH).map((arch) => [arch, `Container/${arch}/images`])) },
        },
      },
    },
  };
}

function imagesJson(compose: ComposeHeader, images: MadeImage[], root: string, format: '1.2' | '2.0') {
  const byArch: Record<string, unknown[]> = {};
  for (const image of images) {
    const relative = image.path.slice(root.length + 1);
    const common = {
      arch: image.composeArch,
      bootable: false,
      disc_count: 1,
      disc_number: 1,
      format: 'tar.xz',
      implant_md5: null,
      mtime: 1714550400,
      subvariant: image.subvariant,
      type: 'docker',
      volume_id: null,
    };
    const where =
      format === '1.2'
        ? { path: relative, size: image.size, checksums: { sha256: image.sha256 } }
        : { location: { url: relative, size: image.size, checksum: `sha256:${image.sha256}`, local_path: relative } };
    (byArch[image.composeArch] ??= []).push({ ...common, ...where });
  }
  return { header: { type: 'productmd.images', version: format }, payload: { compose, images: { Container: byArch } } };
}
