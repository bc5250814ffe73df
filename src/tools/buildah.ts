import { readFile, rm } from 'node:fs/promises';
import { accessArgs, type RegistryAccess } from './registry-access.js';
import { runTool, type RunOptions } from './run-tool.js';
import { storageArgs, type ContainerStorage } from './storage.js';
import { ToolError } from './tool-error.js';

function buildah(storage: ContainerStorage, args: string[], options?: RunOptions): Promise<string> {
  return runTool('buildah', [...storageArgs(storage), ...args], options);
}

export async function manifestCreate(storage: ContainerStorage, listName: string): Promise<void> {
  await buildah(storage, ['manifest', 'create', listName]);
}

/** Adds `docker://<reference>` (a repo@sha256:… reference) to the local list; returns the instance digest. */
export async function manifestAdd(
  storage: ContainerStorage,
  listName: string,
  reference: string,
  access: RegistryAccess,
  options?: RunOptions,
): Promise<string> {
  const output = await buildah(
    storage,
    ['manifest', 'add', ...accessArgs(access), listName, `docker://${reference}`],
    options,
  );
  const digest = /(sha256:[0-9a-f]{64})\s*$/.exec(output.trim())?.[1];
  if (!digest)
    throw new ToolError('unknown', 'buildah', `buildah manifest add ${listName}`, `unexpected output: ${output}`, 0);
  return digest;
}

export async function manifestAnnotate(
  storage: ContainerStorage,
  listName: string,
  instanceDigest: string,
  annotations: Record<string, string>,
): Promise<void> {
  const flags = Object.entries(annotations).flatMap(([key, value]) => ['--annotation', `${key}=${value}`]);
  await buildah(storage, ['manifest', 'annotate', ...flags, listName, instanceDigest]);
}

/** Pushes the list and its instances (--all) as OCI; returns the pushed index digest. */
export async function manifestPush(
  storage: ContainerStorage,
  listName: string,
  destination: string,
  access: RegistryAccess,
  digestFile: string,
  options?: RunOptions,
): Promise<string> {
  await rm(digestFile, { force: true });
  await buildah(
    storage,
    [
      'manifest',
      'push',
      '--all',
      '--format',
      'oci',
      '--digestfile',
      digestFile,
      ...accessArgs(access),
      listName,
      `docker://${destination}`,
    ],
    options,
  );
  return (await readFile(digestFile, 'utf8')).trim();
}

/**
 * Removes local images or lists. One that is already gone ("image not known") is fine: cleanup runs
 * again after retries and on failure paths. Returns the names that could not be removed, with why.
 */
export async function removeImages(
  storage: ContainerStorage,
  names: string[],
): Promise<Array<{ name: string; error: string }>> {
  const failures: Array<{ name: string; error: string }> = [];
  for (const name of names) {
    try {
      await buildah(storage, ['rmi', name]);
    } catch (error) {
      if (error instanceof ToolError && error.kind === 'not-found') continue;
      failures.push({ name, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return failures;
}

/** Names (with tags) of every local image and manifest list. */
export async function listImageNames(storage: ContainerStorage): Promise<string[]> {
  const output = await buildah(storage, ['images', '--format', '{{.Name}}:{{.Tag}}']);
  return output
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('<none>'));
}
