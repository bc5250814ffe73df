import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { platformOfConfig, type Platform } from '../domain/compose-index.js';
import { DomainError } from '../domain/errors.js';
import type { ImageArtifact } from '../domain/types.js';
import { runTool } from '../tools/run-tool.js';
import { ToolError } from '../tools/tool-error.js';
import { workerFaultInOutput } from '../domain/worker-storage.js';
import { describeEntry, lastLines } from './image-archive.js';

const TOP_LEVEL = new Set(['oci-layout', 'index.json', 'blobs']);
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Names an OCI archive may hold: its layout and nothing else. */
const LAYOUT_MEMBER =
  /^(\.\/)?(\.?|oci-layout|index\.json|blobs\/?|blobs\/[a-z0-9]+\/?|blobs\/[a-z0-9]+\/[0-9a-f]{32,128})$/;

/**
 * Unpacks an OCI archive (compressed or not: tar decompresses it) into an OCI image layout directory, once: the
 * worker then sends its blobs to every registry as they are (layoutImage), and the manifest digest is read from
 * index.json. The archive comes from someone else: it may hold only the layout's own names (checked before
 * anything is written), and only regular files under blobs/ (checked after: no links, no devices).
 */
export async function unpackOciArchive(
  file: string,
  members: readonly string[],
  layoutDir: string,
  image: ImageArtifact,
  signal?: AbortSignal,
): Promise<void> {
  const stray = members.find((name) => !LAYOUT_MEMBER.test(name));
  if (stray !== undefined)
    throw badLayout(image, `it holds ${JSON.stringify(stray.slice(0, 80))} beside its OCI layout`);
  mkdirSync(layoutDir, { recursive: true });
  try {
    await runTool(
      'tar',
      ['--extract', '--file', file, '--directory', layoutDir, '--no-same-owner', '--no-same-permissions'],
      { ...(signal ? { signal } : {}) },
    );
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    // "No space left on device", "Permission denied"…: the work dir's fault, not the archive's (the activity says so).
    if (workerFaultInOutput(error.stderr)) throw error;
    throw badLayout(image, `tar cannot unpack it (${lastLines(error.stderr)})`);
  }
  checkLayout(layoutDir, image);
}

/** A Docker archive becomes an OCI layout once, in the cache: layers compressed, manifest as every registry will store it. */
export async function convertDockerArchive(
  tarFile: string,
  layoutDir: string,
  image: ImageArtifact,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await runTool('skopeo', ['copy', '--quiet', `docker-archive:${tarFile}`, `oci:${layoutDir}`], {
      ...(signal ? { signal } : {}),
    });
  } catch (error) {
    if (!(error instanceof ToolError)) throw error;
    if (workerFaultInOutput(error.stderr)) throw error;
    throw badLayout(
      image,
      `it holds manifest.json like a Docker archive, but skopeo cannot read it as one (${lastLines(error.stderr)})`,
    );
  }
}

/** The digest of the layout's one image manifest: what a registry stores, since the worker sends the manifest as it is. */
export function layoutManifestDigest(layoutDir: string, image: ImageArtifact): string {
  let index: unknown;
  try {
    index = JSON.parse(readFileSync(join(layoutDir, 'index.json'), 'utf8'));
  } catch (error) {
    throw badLayout(image, `its index.json cannot be read (${(error as Error).message})`);
  }
  const manifests = (index as { manifests?: unknown }).manifests;
  if (!Array.isArray(manifests) || manifests.length !== 1) {
    throw badLayout(
      image,
      `its index.json lists ${Array.isArray(manifests) ? manifests.length : 'no'} manifests; an image archive holds exactly one`,
    );
  }
  const digest = (manifests[0] as { digest?: unknown }).digest;
  if (typeof digest !== 'string' || !DIGEST.test(digest))
    throw badLayout(
      image,
      `its index.json names the manifest ${JSON.stringify(String(digest).slice(0, 80))}, not a sha256 digest`,
    );
  return digest;
}

/** A manifest or image config larger than this is not an image's (they are a few KiB): refused, never read whole. */
const MAX_METADATA_BYTES = 4 * 1024 * 1024;

/**
 * The platform the layout's image config names (architecture, os, variant): what an index lists for the image.
 * The same bytes a registry will serve as the config, since the worker sends them as they are.
 */
export function layoutPlatform(layoutDir: string, image: ImageArtifact): Platform {
  const manifestDigest = layoutManifestDigest(layoutDir, image);
  const manifest = readBlob(layoutDir, manifestDigest, image, 'its manifest');
  let config: unknown;
  try {
    config = (JSON.parse(manifest) as { config?: { digest?: unknown } }).config?.digest;
  } catch {
    throw badLayout(image, `its manifest ${manifestDigest} is not JSON`);
  }
  if (typeof config !== 'string' || !DIGEST.test(config))
    throw badLayout(image, `its manifest ${manifestDigest} names no image config by sha256 digest`);
  try {
    return platformOfConfig(manifestDigest, readBlob(layoutDir, config, image, 'its image config'));
  } catch (error) {
    if (error instanceof DomainError && error.type === 'InvalidInput') throw badLayout(image, error.message);
    throw error;
  }
}

/** The layout's image as a registry takes it: its manifest (bytes and media type), and the blobs it names. */
export interface LayoutImage {
  digest: string;
  manifest: string;
  mediaType: string;
  /** The config, then each layer: the files the worker sends as they are. */
  blobs: Array<{ digest: string; size: number; path: string }>;
}

/** Reads the layout's image for an upload: every blob the manifest names must be in the layout, of the size it says. */
export function layoutImage(layoutDir: string, image: ImageArtifact): LayoutImage {
  const digest = layoutManifestDigest(layoutDir, image);
  const manifest = readBlob(layoutDir, digest, image, 'its manifest');
  let document: { mediaType?: unknown; config?: unknown; layers?: unknown };
  try {
    document = JSON.parse(manifest) as typeof document;
  } catch {
    throw badLayout(image, `its manifest ${digest} is not JSON`);
  }
  const layers: unknown[] = Array.isArray(document.layers) ? (document.layers as unknown[]) : [];
  const descriptors = [document.config, ...layers];
  const blobs = descriptors.map((descriptor) => {
    const { digest: blob, size } = (descriptor ?? {}) as { digest?: unknown; size?: unknown };
    if (typeof blob !== 'string' || !DIGEST.test(blob) || typeof size !== 'number' || !Number.isSafeInteger(size))
      throw badLayout(image, `its manifest ${digest} names a blob without a sha256 digest and a size`);
    const path = join(layoutDir, 'blobs', 'sha256', blob.slice('sha256:'.length));
    let found: number;
    try {
      found = statSync(path).size;
    } catch {
      throw badLayout(image, `the blob ${blob} its manifest names is not in the layout`);
    }
    if (found !== size) throw badLayout(image, `the blob ${blob} has ${found} bytes, its manifest says ${size}`);
    return { digest: blob, size, path };
  });
  const mediaType =
    typeof document.mediaType === 'string' ? document.mediaType : 'application/vnd.oci.image.manifest.v1+json';
  return { digest, manifest, mediaType, blobs };
}

function readBlob(layoutDir: string, digest: string, image: ImageArtifact, what: string): string {
  const path = join(layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  let size: number;
  try {
    size = statSync(path).size;
  } catch {
    throw badLayout(image, `${what} ${digest} is not in the layout`);
  }
  if (size > MAX_METADATA_BYTES) throw badLayout(image, `${what} ${digest} has ${size} bytes, not a few KiB`);
  return readFileSync(path, 'utf8');
}

/** Bytes the layout takes on disk (its files; the cache budget counts them). */
export function layoutSize(layoutDir: string): number {
  let total = 0;
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else total += lstatSync(path).size;
    }
  };
  walk(layoutDir);
  return total;
}

function checkLayout(layoutDir: string, image: ImageArtifact): void {
  for (const entry of readdirSync(layoutDir, { withFileTypes: true })) {
    if (!TOP_LEVEL.has(entry.name))
      throw badLayout(image, `it holds ${JSON.stringify(entry.name.slice(0, 60))} beside its OCI layout`);
    if (entry.name === 'blobs' ? !entry.isDirectory() : !entry.isFile())
      throw badLayout(image, `its ${entry.name} is not a plain ${entry.name === 'blobs' ? 'directory' : 'file'}`);
  }
  const blobs = join(layoutDir, 'blobs');
  for (const algorithm of readdirSync(blobs, { withFileTypes: true })) {
    if (!algorithm.isDirectory()) throw badLayout(image, `blobs/${algorithm.name} is not a directory`);
    for (const blob of readdirSync(join(blobs, algorithm.name), { withFileTypes: true })) {
      if (!blob.isFile())
        throw badLayout(image, `blobs/${algorithm.name}/${blob.name.slice(0, 80)} is not a plain file`);
    }
  }
}

function badLayout(image: ImageArtifact, what: string): DomainError {
  return new DomainError(
    'UnsupportedImageArchive',
    `${describeEntry(image)} is not a usable container image archive: ${what}. Nothing of this compose was pushed. Fix: rebuild the compose`,
  );
}
