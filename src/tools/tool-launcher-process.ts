/**
 * The tool launcher: a small node process that starts the worker's tools for it (src/tools/tool-launcher.ts). The
 * kernel copies a process's page tables when it forks, so a spawn from the worker (300 MiB: the SDK, its workflow
 * threads) costs 10–20 ms of its CPU and blocks its event loop that long; from this process, a few milliseconds.
 * It imports node's own modules only, to stay small. When the worker goes (its IPC channel closes) it kills every
 * tool it started and exits; tools also run under `setpriv --pdeathsig`, so they die with it even if it is killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import type { LauncherReply, LauncherRequest } from './tool-launcher-protocol.js';

const running = new Map<number, ChildProcess>();

function reply(message: LauncherReply): void {
  process.send?.(message);
}

function start(request: Extract<LauncherRequest, { kind: 'run' }>): void {
  const { id } = request;
  let stdoutFd: number | undefined;
  let child: ChildProcess;
  try {
    if (request.stdoutFile !== undefined) stdoutFd = openSync(request.stdoutFile, 'w');
    child = spawn(request.file, request.args, {
      env: request.env,
      stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'],
    });
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    reply({ kind: 'done', id, stdout: '', stderr: '', spawnError: { code: code ?? 'UNKNOWN', message } });
    return;
  } finally {
    if (stdoutFd !== undefined) closeSync(stdoutFd);
  }
  running.set(id, child);
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  const collect = (stream: NodeJS.ReadableStream | null, into: Buffer[]) => {
    let partial = '';
    stream?.on('data', (chunk: Buffer) => {
      into.push(chunk);
      if (!request.lines) return;
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) reply({ kind: 'line', id, line });
    });
    stream?.on('end', () => {
      if (request.lines && partial !== '') reply({ kind: 'line', id, line: partial });
    });
  };
  collect(child.stdout, stdout);
  collect(child.stderr, stderr);
  let spawnError: { code: string; message: string } | undefined;
  child.on('error', (error: NodeJS.ErrnoException) => {
    spawnError = { code: error.code ?? 'UNKNOWN', message: error.message };
  });
  child.on('close', (exitCode, signal) => {
    running.delete(id);
    reply({
      kind: 'done',
      id,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      ...(spawnError ? { spawnError } : { exitCode: exitCode ?? undefined, signal: signal ?? undefined }),
    });
  });
}

process.on('message', (request: LauncherRequest) => {
  if (request.kind === 'run') start(request);
  else running.get(request.id)?.kill('SIGTERM');
});

process.on('disconnect', () => {
  for (const child of running.values()) child.kill('SIGKILL');
  process.exit(0);
});
