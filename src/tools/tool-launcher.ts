import { spawn, type ChildProcess } from 'node:child_process';
import type { LauncherReply, LauncherRequest } from './tool-launcher-protocol.js';

/** How a tool ended, as the launcher saw it. */
export interface LaunchResult {
  stdout: string;
  stderr: string;
  exitCode?: number;
  signal?: string;
  spawnError?: { code: string; message: string };
  canceled: boolean;
}

export interface LaunchOptions {
  env: Record<string, string>;
  stdoutFile?: string;
  onLine?: (line: string) => void;
  signal?: AbortSignal | undefined;
}

interface Pending {
  /** The launcher running it: when that one exits, only its own calls fail (a new one may run others by then). */
  owner: ChildProcess;
  resolve: (result: LaunchResult) => void;
  onLine?: (line: string) => void;
  canceled: boolean;
}

// Run from src/ (tsx), the launcher is TypeScript too: node loads it through tsx.
const LAUNCHER = new URL(`./tool-launcher-process${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** tsx's loader as a file URL, so that the launcher finds it from whatever directory the worker was started in. */
function tsxLoader(): string {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx'; // a loader without import.meta.resolve (vitest's): the project root is the working directory
  }
}

let launcher: ChildProcess | undefined;
let nextId = 1;
const pending = new Map<number, Pending>();

/**
 * Runs `file` with `args` from the tool launcher (tool-launcher-process.ts), a small process whose forks are cheap,
 * started at the first call and again after it died. Never rejects: a tool that could not start has `spawnError`.
 */
export function launchTool(file: string, args: string[], options: LaunchOptions): Promise<LaunchResult> {
  const id = nextId++;
  return new Promise<LaunchResult>((resolve) => {
    if (options.signal?.aborted) {
      resolve({ stdout: '', stderr: '', canceled: true });
      return;
    }
    let launcherProcess: ChildProcess;
    try {
      launcherProcess = runningLauncher(options.env);
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      resolve({ stdout: '', stderr: '', spawnError: { code: code ?? 'UNKNOWN', message }, canceled: false });
      return;
    }
    const entry: Pending = {
      owner: launcherProcess,
      resolve,
      canceled: false,
      ...(options.onLine ? { onLine: options.onLine } : {}),
    };
    const onAbort = () => {
      entry.canceled = true;
      send(launcherProcess, { kind: 'kill', id });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    entry.resolve = (result) => {
      options.signal?.removeEventListener('abort', onAbort);
      resolve(result);
    };
    pending.set(id, entry);
    launcherProcess.channel?.ref();
    send(launcherProcess, {
      kind: 'run',
      id,
      file,
      args,
      env: options.env,
      ...(options.stdoutFile !== undefined ? { stdoutFile: options.stdoutFile } : {}),
      ...(options.onLine ? { lines: true } : {}),
    });
  });
}

function send(launcherProcess: ChildProcess, request: LauncherRequest): void {
  launcherProcess.send(request, (error) => {
    // The launcher went away before it got the request: its exit handler settles what is pending.
    if (error) launcherProcess.kill('SIGKILL');
  });
}

/** The launcher, started when it is not running, with the tools' environment (it sees no more than they do). */
function runningLauncher(env: Record<string, string>): ChildProcess {
  if (launcher && launcher.exitCode === null && launcher.signalCode === null && launcher.connected) return launcher;
  const child = spawn(
    'setpriv',
    [
      '--pdeathsig',
      'SIGKILL',
      '--',
      process.execPath,
      ...(LAUNCHER.pathname.endsWith('.ts') ? ['--import', tsxLoader()] : []),
      LAUNCHER.pathname,
    ],
    { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' },
  );
  launcher = child;
  child.on('message', (reply: LauncherReply) => {
    const entry = pending.get(reply.id);
    if (!entry) return;
    if (reply.kind === 'line') {
      entry.onLine?.(reply.line);
      return;
    }
    pending.delete(reply.id);
    if (![...pending.values()].some((other) => other.owner === child)) child.channel?.unref();
    const { kind: _kind, id: _id, ...result } = reply;
    entry.resolve({ ...result, canceled: entry.canceled });
  });
  const fail = (message: string, code: string) => {
    if (launcher === child) launcher = undefined;
    for (const [id, entry] of pending) {
      if (entry.owner !== child) continue;
      pending.delete(id);
      entry.resolve({ stdout: '', stderr: message, spawnError: { code, message }, canceled: entry.canceled });
    }
  };
  child.on('error', (error: NodeJS.ErrnoException) => fail(error.message, error.code ?? 'UNKNOWN'));
  child.on('exit', (code, signal) =>
    fail(`the tool launcher exited (${signal ?? `code ${code}`}) while the tool ran`, 'ELAUNCHER'),
  );
  child.channel?.unref();
  child.unref();
  return child;
}
