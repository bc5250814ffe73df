import { DomainError } from '../domain/errors.js';
import { classifyToolFailure, ToolError } from './tool-error.js';
import { launchTool, type LaunchResult } from './tool-launcher.js';

export interface RunOptions {
  /** Called with each line the tool writes, for progress and heartbeats. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * The only variables a tool sees: where programs and its config are, locale, proxies. Nothing else of the worker's
 * environment (registry passwords, the broker URL, API keys): registry credentials reach tools by authfile only.
 */
const TOOL_VARIABLES = [
  'PATH',
  'HOME',
  'LANG',
  'LC_ALL',
  'TZ',
  'TMPDIR',
  'XDG_RUNTIME_DIR',
  'CONTAINERS_CONF',
  'CONTAINERS_REGISTRIES_CONF',
  'CONTAINERS_STORAGE_CONF',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
];

export function toolEnvironment(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = Object.fromEntries(
    TOOL_VARIABLES.flatMap((name) => (from[name] === undefined ? [] : [[name, from[name]]])),
  );
  return toolTempDir ? { ...env, TMPDIR: toolTempDir } : env;
}

let toolTempDir: string | undefined;

/**
 * Where tools put their temporary files (skopeo unpacks a whole oci-archive there on every call): the worker's own
 * work dir, which it sweeps at start, instead of /var/tmp, where a killed tool's leftovers would stay forever.
 */
export function useToolTempDir(dir: string): void {
  toolTempDir = dir;
}

/**
 * How every tool is started: with toolEnvironment() only, and under `setpriv --pdeathsig SIGKILL`, so the kernel
 * kills it when the worker dies, even by SIGKILL (an orphaned skopeo would go on pushing).
 */
export function toolCommand(
  file: string,
  args: string[],
): { file: string; args: string[]; env: Record<string, string>; extendEnv: false } {
  return {
    file: 'setpriv',
    args: ['--pdeathsig', 'SIGKILL', '--', file, ...args],
    env: toolEnvironment(),
    extendEnv: false,
  };
}

/**
 * Runs a tool with an argument array (never through a shell); a failure becomes a classified ToolError.
 * Returns stdout byte for byte (no newline stripped: callers hash raw manifests).
 */
export async function runTool(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  const command = toolCommand(file, args);
  const result = await launchTool(command.file, command.args, {
    env: command.env,
    signal: options.signal,
    ...(options.onOutput ? { onLine: options.onOutput } : {}),
  });
  const failed = failureOutput(file, result, options.signal);
  if (failed !== undefined)
    throw new ToolError(classifyToolFailure(failed), file, describe(file, args), failed, result.exitCode);
  return result.stdout;
}

/**
 * How a tool that was launched ended: undefined when it exited 0, else what it said (or the signal that ended it).
 * Throws when it was cancelled, or never ran (launchFailure).
 */
export function failureOutput(file: string, result: LaunchResult, signal?: AbortSignal): string | undefined {
  if (result.canceled) throw signal?.reason ?? new Error(`${file} was cancelled`);
  const failure = launchFailure(file, result);
  if (failure) throw failure;
  if (result.exitCode === 0) return undefined;
  return result.stderr || `${file} ended by ${result.signal ?? 'an unknown cause'}`;
}

/**
 * WorkerToolMissing when the tool never ran (toolNotStarted); a ToolError when the launcher itself could not run it
 * (it died meanwhile: retried). Undefined when the tool ran, whatever its exit code.
 */
export function launchFailure(file: string, result: LaunchResult): Error | undefined {
  const { spawnError } = result;
  const missing = toolNotStarted(
    file,
    { exitCode: result.exitCode, code: spawnError?.code, shortMessage: spawnError?.message },
    result.stderr || (spawnError?.message ?? ''),
  );
  if (missing) return missing;
  if (!spawnError) return undefined;
  return new ToolError('transient', file, file, spawnError.message, undefined);
}

/** The command for messages and logs, with credentials flags dropped. */
function describe(file: string, args: string[]): string {
  const shown: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--creds' || arg === '--src-creds' || arg === '--dest-creds') {
      i++;
      continue;
    }
    if (arg === '--root' || arg === '--runroot' || arg === '--storage-driver' || arg === '--authfile') {
      i++;
      continue;
    }
    shown.push(arg);
  }
  return [file, ...shown].join(' ');
}

/**
 * A WorkerToolMissing error when the tool never ran: spawn failed (setpriv missing, or the worker's working directory
 * gone), or setpriv could not execute it. The worker's fault, not the compose's or the registry's: retried, in case
 * another worker has the tool. Undefined when the tool ran (and failed by itself).
 */
export function toolNotStarted(
  file: string,
  result: { exitCode?: number | undefined; code?: string | undefined; shortMessage?: string | undefined },
  stderr: string,
): DomainError | undefined {
  const spawnFailed = result.exitCode === undefined && result.code === 'ENOENT';
  if (!spawnFailed && !(result.exitCode === 127 && /setpriv: failed to execute/.test(stderr))) return undefined;
  const detail = spawnFailed ? (result.shortMessage ?? stderr) : stderr;
  return new DomainError(
    'WorkerToolMissing',
    `this worker could not start ${file} (${detail.trim().split('\n')[0]!.slice(0, 300)}): it is not installed, or the worker's working directory was removed. This is the worker host's fault, not the compose's: the step is retried. Fix: install what scripts/setup.sh installs (util-linux for setpriv, tar, xz-utils, skopeo, buildah) and restart the worker from an existing directory`,
  );
}
