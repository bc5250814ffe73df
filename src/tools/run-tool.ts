import { execa } from 'execa';
import { classifyToolFailure, ToolError } from './tool-error.js';

export interface RunOptions {
  /** Called with each line the tool writes, for progress and heartbeats. */
  onOutput?: (line: string) => void;
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs a tool with an argument array (never through a shell); a failure becomes a classified ToolError.
 * Returns stdout byte for byte (no newline stripped: callers hash raw manifests).
 */
export async function runTool(file: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await execa(file, args, {
    reject: false,
    stdin: 'ignore',
    cancelSignal: options.signal,
    env: options.env,
    stripFinalNewline: false,
    stdout: options.onOutput ? ['pipe', lineSink(options.onOutput)] : 'pipe',
    stderr: options.onOutput ? ['pipe', lineSink(options.onOutput)] : 'pipe',
  });
  if (result.isCanceled) throw options.signal?.reason ?? new Error(`${file} was cancelled`);
  if (result.failed) {
    const stderr = String(result.stderr ?? '') || (result.message ?? '');
    throw new ToolError(classifyToolFailure(stderr), file, describe(file, args), stderr, result.exitCode);
  }
  return String(result.stdout);
}

function lineSink(onLine: (line: string) => void) {
  return function* (line: unknown) {
    onLine(String(line));
    yield line;
  };
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
