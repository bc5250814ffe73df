import { readFile, rm } from 'node:fs/promises';
import { accessArgs, type RegistryAccess } from './registry-access.js';
import { runTool, type RunOptions } from './run-tool.js';
import { ToolError } from './tool-error.js';
import { describeRemoteManifest, type RemoteManifest } from './remote-manifest.js';

export { OCI_INDEX, type IndexEntry, type RemoteManifest } from './remote-manifest.js';

/**
 * Reads the manifest at `docker://<reference>` with skopeo, as a user's own client sees it: the tests and the demo
 * check what a run published with it (the worker itself reads through src/tools/registry-api.ts).
 */
export async function inspectRemote(
  reference: string,
  access: RegistryAccess,
  options: RunOptions = {},
): Promise<RemoteManifest> {
  let raw: string;
  try {
    raw = await runTool('skopeo', ['inspect', '--raw', ...accessArgs(access), `docker://${reference}`], options);
  } catch (error) {
    if (error instanceof ToolError && error.kind === 'not-found') return { kind: 'absent' };
    throw error;
  }
  return describeRemoteManifest(raw, () =>
    runTool('skopeo', ['inspect', '--config', '--raw', ...accessArgs(access), `docker://${reference}`], options),
  );
}

/**
 * `skopeo copy <source> docker://<destination>`; returns the digest the registry stored. The tests and benchmarks
 * seed registries with it, as a user would; the worker uploads through src/tools/registry-api.ts. `sourceAccess` is how to
 * reach a source that is itself in a registry (docker://…).
 */
export async function copyToRegistry(
  source: string,
  destination: string,
  access: RegistryAccess,
  digestFile: string,
  options: RunOptions = {},
  sourceAccess?: RegistryAccess,
): Promise<string> {
  await rm(digestFile, { force: true });
  const sourceArgs = sourceAccess ? accessArgs(sourceAccess, 'src-') : [];
  await runTool(
    'skopeo',
    [
      'copy',
      '--digestfile',
      digestFile,
      ...sourceArgs,
      ...accessArgs(access, 'dest-'),
      source,
      `docker://${destination}`,
    ],
    options,
  );
  return (await readFile(digestFile, 'utf8')).trim();
}
