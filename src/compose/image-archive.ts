import { copyFile, open } from 'node:fs/promises';
import { DomainError } from '../domain/errors.js';
import type { ArchiveCompression, ImageArtifact } from '../domain/types.js';
import { failureOutput, runTool, toolCommand } from '../tools/run-tool.js';
import { launchTool } from '../tools/tool-launcher.js';
import { ToolError } from '../tools/tool-error.js';
import { workerFaultInOutput } from '../domain/worker-storage.js';

/** What a container image archive is, from what it holds: an OCI layout (oci-layout) or a Docker archive (manifest.json). */
export type ArchiveKind = 'oci' | 'docker';

const MAGIC: Array<{ name: string; offset: number; bytes: number[] }> = [
  { name: 'xz-compressed', offset: 0, bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
  { name: 'gzip-compressed', offset: 0, bytes: [0x1f, 0x8b] },
  { name: 'zstd-compressed', offset: 0, bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { name: 'bzip2-compressed', offset: 0, bytes: [0x42, 0x5a, 0x68] },
  { name: 'a qcow2 disk image', offset: 0, bytes: [0x51, 0x46, 0x49, 0xfb] },
  { name: 'an uncompressed tar archive', offset: 257, bytes: [0x75, 0x73, 0x74, 0x61, 0x72] },
];
const EXPECTED_MAGIC: Record<ArchiveCompression, string> = {
  xz: 'xz-compressed',
  gzip: 'gzip-compressed',
  none: 'an uncompressed tar archive',
};

/** "Container/s390x Container_Base image <location>": how messages name the entry. */
export function describeEntry(image: ImageArtifact): string {
  const entry = image.entry
    ? `${image.entry.variant}/${image.composeArch} ${image.entry.subvariant}`
    : image.composeArch;
  return `the ${entry} image ${image.location}`;
}

/** Refuses a file whose first bytes do not say what images.json's format says (a tar.xz that is really gzip, a disk image). */
export async function checkCompression(
  file: string,
  image: ImageArtifact,
  compression: ArchiveCompression,
): Promise<void> {
  const handle = await open(file, 'r');
  let head: Buffer;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const found =
    MAGIC.find(({ offset, bytes }) => bytes.every((byte, i) => head[offset + i] === byte))?.name ??
    'of no archive format compose-publisher knows';
  if (found === EXPECTED_MAGIC[compression]) return;
  throw unsupportedArchive(image, `images.json says its format is ${formatOf(compression)}, but the file is ${found}`);
}

/**
 * Decompresses (or copies) the image file to `target`, an uncompressed tar. The bytes were verified already: a failure
 * is final (CorruptImage), unless the tool says the work dir is full or unwritable (a ToolError the activity turns
 * into WorkerStorageFull or WorkerStorageError).
 */
export async function decompressArchive(
  file: string,
  target: string,
  image: ImageArtifact,
  compression: ArchiveCompression,
  signal?: AbortSignal,
): Promise<void> {
  if (compression === 'none') return copyFile(file, target);
  const tool = compression === 'xz' ? 'xz' : 'gzip';
  const command = toolCommand(tool, ['--decompress', '--stdout', file]);
  // Created here first, so that a work dir the worker cannot write fails as before, with the path (an fs error).
  await (await open(target, 'w')).close();
  // The tool writes the file itself (the launcher makes it the tool's stdout): the bytes never pass through here.
  const result = await launchTool(command.file, command.args, { env: command.env, stdoutFile: target, signal });
  const stderr = failureOutput(tool, result, signal);
  if (stderr !== undefined) {
    // A full or unwritable work dir is the worker's fault, not the image's: left for the activity to say so.
    if (workerFaultInOutput(stderr))
      throw new ToolError(
        'unknown',
        tool,
        `${tool} --decompress --stdout ${file} > ${target}`,
        stderr,
        result.exitCode,
      );
    throw corruptImage(image, tool, stderr);
  }
}

/** What an image archive holds, read by tar from the (compressed) file itself: its kind, and every member's name. */
export interface ArchiveListing {
  kind: ArchiveKind;
  members: string[];
}

/**
 * What an image archive holds: an OCI archive (oci-layout at the top), a Docker archive (manifest.json), or
 * something else (a root filesystem, a disk image tarball), which is refused naming what it holds. tar reads the
 * compressed file as it is (it decompresses xz and gzip itself), so nothing is written to disk to find out.
 */
export async function listArchive(
  file: string,
  image: ImageArtifact,
  compression: ArchiveCompression,
  signal?: AbortSignal,
): Promise<ArchiveListing> {
  let listing: string;
  try {
    listing = await runTool('tar', ['--list', '--file', file], { ...(signal ? { signal } : {}) });
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    // Too many open files, or a download in the work dir tar may not read: the worker's fault (the activity says so).
    const fault = workerFaultInOutput(error.stderr);
    if (fault && (file !== image.location || fault.code === 'EMFILE' || fault.code === 'ENFILE')) throw error;
    if (compression !== 'none' && /\b(xz|gzip): /.test(error.stderr))
      throw corruptImage(image, compression === 'xz' ? 'xz' : 'gzip', error.stderr);
    throw unsupportedArchive(image, `it is not a tar archive once decompressed (${lastLines(error.stderr)})`);
  }
  const members = listing.split('\n').filter((name) => name !== '');
  const topLevel = new Set(
    members.map((name) => name.replace(/^\.\//, '').split('/')[0] ?? '').filter((name) => name !== '' && name !== '.'),
  );
  if (topLevel.has('oci-layout')) return { kind: 'oci', members };
  if (topLevel.has('manifest.json')) return { kind: 'docker', members };
  const names = [...topLevel].sort();
  const shown =
    names
      .slice(0, 8)
      .map((name) => JSON.stringify(name.slice(0, 40)))
      .join(', ') + (names.length > 8 ? `, … (${names.length} in all)` : '');
  const guess = ['etc', 'usr'].every((name) => topLevel.has(name)) ? ': a root filesystem, not a container image' : '';
  throw unsupportedArchive(image, `it is a tar archive whose top level holds ${shown || 'nothing'}${guess}`);
}

function corruptImage(image: ImageArtifact, tool: string, stderr: string): DomainError {
  return new DomainError(
    'CorruptImage',
    `${describeEntry(image)} cannot be decompressed with ${tool}, though its sha256 matches images.json: ${lastLines(stderr)}. Nothing of this compose was pushed. Fix: rebuild the compose`,
  );
}

function unsupportedArchive(image: ImageArtifact, what: string): DomainError {
  const subvariant = image.entry?.subvariant ?? 'its subvariant';
  return new DomainError(
    'UnsupportedImageArchive',
    `${describeEntry(image)} is not a container image archive: ${what}. An OCI archive holds oci-layout, a Docker archive manifest.json. Nothing of this compose was pushed. ` +
      `Fix: publish a compose whose ${subvariant} images are container image archives, or remove ${subvariant} from [repositories] in the config`,
  );
}

function formatOf(compression: ArchiveCompression): string {
  return compression === 'xz' ? 'tar.xz' : compression === 'gzip' ? 'tar.gz' : 'an uncompressed tar';
}

/** The end of a tool's output, printable and short: failure messages carry no binary and stay small. */
export function lastLines(output: string, lines = 3, maxChars = 400): string {
  const printable = output.replace(/[^\x20-\x7e\n]/g, '?').trim();
  const tail = printable.split('\n').slice(-lines).join(' / ');
  return tail.length > maxChars ? `…${tail.slice(-maxChars)}` : tail || 'no output';
}
