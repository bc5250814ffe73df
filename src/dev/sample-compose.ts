import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { COMPOSE_ID_ANNOTATION } from '../domain/types.js';
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
  /** productmd image type of the container entries: "container" as Fedora 42+ writes it (default), "docker" as Fedora ≤ 41. */
  imageType?: 'container' | 'docker';
  /** OCI archives (default), or Docker archives as Fedora ≤ 39 shipped them (named without .oci). */
  archive?: ImageArchiveKind;
  faults?: {
    breakChecksum?: { subvariant: string; arch: string };
    malformedJson?: 'composeinfo' | 'images';
    /** This image file is a root filesystem tarball (xz), not a container image: a WSL_Base-like entry. */
    rootfsInstead?: { subvariant: string; arch: string };
  };
}

export type ImageArchiveKind = 'oci' | 'docker';

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

export const OCI_ARCH: Record<string, string> = {
  x86_64: 'amd64',
  aarch64: 'arm64',
  ppc64le: 'ppc64le',
  s390x: 's390x',
};

export async function makeCompose(
  spec: ComposeSpec,
  options: { dir: string; storage: ContainerStorage },
): Promise<MadeCompose> {
  const { releaseVersion, date, respin, type } = describeId(spec.composeId);
  const root = join(options.dir, spec.composeId, 'compose');
  const jobs = Object.entries(spec.images).flatMap(([subvariant, arches]) =>
    arches.map((arch) => ({ subvariant, arch })),
  );
  const images: MadeImage[] = [];
  const archive = spec.archive ?? 'oci';
  const rootfs = spec.faults?.rootfsInstead;
  // Two at a time: the machines this runs on have two cores.
  for (let i = 0; i < jobs.length; i += 2) {
    const batch = jobs.slice(i, i + 2).map(({ subvariant, arch }) => {
      const kind = rootfs && rootfs.subvariant === subvariant && rootfs.arch === arch ? 'rootfs' : archive;
      return makeImage(spec.composeId, subvariant, arch, root, kind, options);
    });
    images.push(...(await Promise.all(batch)));
  }
  const broken = spec.faults?.breakChecksum;
  const listed = images.map((image) =>
    broken && broken.subvariant === image.subvariant && broken.arch === image.composeArch
      ? { ...image, sha256: 'f'.repeat(64) }
      : image,
  );
  const compose = { id: spec.composeId, date, respin, type, label: null };
  mkdirSync(join(root, 'metadata'), { recursive: true });
  writeMetadata(
    join(root, 'metadata', 'composeinfo.json'),
    composeInfo(compose, releaseVersion, spec.format),
    spec.faults?.malformedJson === 'composeinfo',
  );
  writeMetadata(
    join(root, 'metadata', 'images.json'),
    imagesJson(compose, listed, root, spec.format, spec.imageType ?? 'container'),
    spec.faults?.malformedJson === 'images',
  );
  return { root, composeId: spec.composeId, images };
}

function describeId(composeId: string) {
  const match = /^Fedora-(\w+)-(\d{8})(?:\.(n|t))?\.(\d+)$/.exec(composeId);
  if (!match) throw new Error(`sample compose ids look like Fedora-40-20240501.n.0, not ${composeId}`);
  const [, releaseVersion, date, label, respin] = match;
  return {
    releaseVersion: releaseVersion!,
    date: date!,
    respin: Number(respin),
    type: label === 'n' ? 'nightly' : label === 't' ? 'test' : 'production',
  };
}

/** Fedora's file names: Fedora-Container-Base-Generic-40-20240501.n.0.x86_64.oci.tar.xz; Docker archives (≤ 39) without .oci. */
function fileNameOf(composeId: string, subvariant: string, arch: string, archive: ImageArchiveKind | 'rootfs'): string {
  const kind =
    { Container_Base: 'Base-Generic', Container_Minimal_Base: 'Minimal-Base', Container_Toolbox: 'Toolbox' }[
      subvariant
    ] ?? subvariant.replace(/^Container_/, '').replace(/_/g, '-');
  const [, version, rest] = /^Fedora-(\w+)-(.*)$/.exec(composeId)!;
  return `Fedora-Container-${kind}-${version}-${rest}.${arch}${archive === 'docker' ? '' : '.oci'}.tar.xz`;
}

async function makeImage(
  composeId: string,
  subvariant: string,
  arch: string,
  root: string,
  archive: ImageArchiveKind | 'rootfs',
  options: { dir: string; storage: ContainerStorage },
): Promise<MadeImage> {
  const fileName = fileNameOf(composeId, subvariant, arch, archive);
  const cached = join(options.dir, 'image-cache', archive, fileName);
  if (!existsSync(cached)) {
    mkdirSync(join(options.dir, 'image-cache', archive), { recursive: true });
    if (archive === 'rootfs') await buildRootfsArchive(cached, options.dir);
    else await buildImageArchive({ label: composeId, subvariant, arch, archive }, cached, options);
  }
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

/**
 * buildah from scratch → one file unique to label, subvariant and arch → commit → an OCI or Docker archive → xz.
 * `label` (a compose id) also goes into the image's org.fedoraproject.compose.id label.
 */
export async function buildImageArchive(
  image: { label: string; subvariant: string; arch: string; archive: ImageArchiveKind },
  target: string,
  options: { dir: string; storage: ContainerStorage },
): Promise<void> {
  const { label: composeId, subvariant, arch } = image;
  const buildah = (args: string[]) => execa('buildah', [...storageArgs(options.storage), ...args]);
  const work = join(options.dir, 'image-work', `${composeId}-${subvariant}-${arch}-${image.archive}`);
  mkdirSync(work, { recursive: true });
  const payload = join(work, 'compose-id');
  writeFileSync(payload, `${composeId} ${subvariant} ${arch}\n`);
  const name = `localhost/sample-compose/${subvariant.toLowerCase()}:${composeId.toLowerCase()}-${arch}-${image.archive}`;
  const container = (await buildah(['from', '--quiet', 'scratch'])).stdout.trim();
  try {
    await buildah(['copy', '--quiet', container, payload, '/etc/compose-id']);
    await buildah([
      'config',
      '--arch',
      OCI_ARCH[arch] ?? arch,
      '--os',
      'linux',
      '--label',
      `${COMPOSE_ID_ANNOTATION}=${composeId}`,
      container,
    ]);
    await buildah(['commit', '--quiet', '--format', image.archive === 'oci' ? 'oci' : 'docker', container, name]);
  } finally {
    await buildah(['rm', container]);
  }
  try {
    const archive = join(work, 'image.tar');
    await buildah([
      'push',
      '--quiet',
      name,
      image.archive === 'oci' ? `oci-archive:${archive}` : `docker-archive:${archive}:${name}`,
    ]);
    await compressXz(archive, target);
  } finally {
    await buildah(['rmi', name]).catch(() => undefined);
    await rm(work, { recursive: true, force: true });
  }
}

/** A root filesystem tarball, xz-compressed, as Fedora ships for WSL: a tar.xz that holds no container image. */
export async function buildRootfsArchive(target: string, dir: string): Promise<void> {
  const work = join(dir, 'rootfs-work', basename(target));
  for (const sub of ['etc', 'usr/bin', 'var']) mkdirSync(join(work, 'rootfs', sub), { recursive: true });
  writeFileSync(join(work, 'rootfs', 'etc', 'os-release'), 'NAME="Fedora Linux"\nVERSION_ID=42\n');
  try {
    await execa('tar', ['--create', '--file', join(work, 'rootfs.tar'), '--directory', join(work, 'rootfs'), '.']);
    await compressXz(join(work, 'rootfs.tar'), target);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function compressXz(file: string, target: string): Promise<void> {
  await execa('xz', ['-T1', '--compress', '--stdout', file], { stdout: { file: `${target}.part` } });
  await execa('mv', [`${target}.part`, target]);
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
          paths: {
            images: Object.fromEntries(Object.keys(OCI_ARCH).map((arch) => [arch, `Container/${arch}/images`])),
          },
        },
      },
    },
  };
}

function imagesJson(
  compose: ComposeHeader,
  images: MadeImage[],
  root: string,
  format: '1.2' | '2.0',
  type: 'container' | 'docker',
) {
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
      type,
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
