/**
 * Where the time of the tools goes: a directory of wrapper scripts (skopeo, buildah, xz, tar) put first on the PATH of
 * every way, plain tools and the worker alike. Each wrapper runs the real tool and appends one line (start, end, exit
 * code, command line) to a trace file. bash's $EPOCHREALTIME costs no process, so a call costs a fork more, not more.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const TRACED_TOOLS = ['skopeo', 'buildah', 'xz', 'tar'] as const;

export interface ToolTrace {
  /** Put this first on PATH. */
  binDir: string;
  file: string;
}

export function installToolShims(dir: string): ToolTrace {
  const binDir = join(dir, 'bin');
  const file = join(dir, 'tool-calls.log');
  mkdirSync(binDir, { recursive: true });
  writeFileSync(file, '');
  for (const tool of TRACED_TOOLS) {
    const real = execFileSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    if (!real || !existsSync(real)) throw new Error(`${tool} is not installed: run bash scripts/setup.sh`);
    const shim = join(binDir, tool);
    writeFileSync(
      shim,
      [
        '#!/bin/bash',
        's=$EPOCHREALTIME',
        `${quote(real)} "$@"`,
        'rc=$?',
        'e=$EPOCHREALTIME',
        `printf '%s %s %s %s %s\\n' "$s" "$e" "$rc" ${quote(tool)} "$*" >> ${quote(file)}`,
        'exit $rc',
        '',
      ].join('\n'),
    );
    chmodSync(shim, 0o755);
  }
  return { binDir, file };
}

function quote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

export interface ToolCall {
  startMs: number;
  endMs: number;
  exitCode: number;
  /** e.g. "skopeo copy oci-archive→docker", "buildah manifest push", "xz --decompress" */
  kind: string;
}

/** The calls that started within [fromMs, toMs]. */
export function readToolCalls(trace: ToolTrace, fromMs: number, toMs: number): ToolCall[] {
  const calls: ToolCall[] = [];
  for (const line of readFileSync(trace.file, 'utf8').split('\n')) {
    const match = /^(\S+) (\S+) (\d+) (\S+)(?: (.*))?$/.exec(line);
    if (!match) continue;
    const startMs = seconds(match[1]!) * 1000;
    if (startMs < fromMs || startMs > toMs) continue;
    calls.push({
      startMs,
      endMs: seconds(match[2]!) * 1000,
      exitCode: Number(match[3]),
      kind: callKind(match[4]!, (match[5] ?? '').split(' ')),
    });
  }
  return calls;
}

function seconds(text: string): number {
  return Number(text.replace(',', '.'));
}

/** Flags of skopeo and buildah that take a value (so the value is not taken for a subcommand or a reference). */
const VALUE_FLAGS = new Set([
  '--root',
  '--runroot',
  '--storage-driver',
  '--digestfile',
  '--format',
  '--authfile',
  '--src-authfile',
  '--dest-authfile',
  '--cert-dir',
  '--src-cert-dir',
  '--dest-cert-dir',
  '--arch',
  '--os',
  '--variant',
  '--annotation',
  '--label',
  '--compression-format',
  '--multi-arch',
]);

function callKind(tool: string, args: string[]): string {
  const words: string[] = [];
  const transports: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith('-')) {
      if (VALUE_FLAGS.has(arg)) i++;
      if (tool === 'xz' || tool === 'tar') words.push(arg);
      continue;
    }
    const transport = /^(docker|oci-archive|oci|docker-archive|dir|containers-storage):/.exec(arg);
    if (transport) transports.push(transport[1]!);
    else if (words.length < (tool === 'buildah' && words[0] === 'manifest' ? 2 : 1) && /^[a-z][a-z-]*$/.test(arg))
      words.push(arg);
  }
  const main =
    tool === 'xz' || tool === 'tar'
      ? words.filter((w) => /^(-d|--decompress|--compress|-z|--list|-t|-x|--extract|-c|--create)$/.test(w)).slice(0, 1)
      : words;
  // `skopeo copy --multi-arch index-only oci:… docker://…` writes an index, not an image: a row of its own.
  const multiArch = args.indexOf('--multi-arch');
  const mode = multiArch >= 0 && args[multiArch + 1] ? [`--multi-arch ${args[multiArch + 1]}`] : [];
  return [tool, ...main, ...mode, ...(transports.length > 0 ? [transports.join('→')] : [])].join(' ');
}

export interface ToolProfileRow {
  kind: string;
  count: number;
  failed: number;
  totalMs: number;
}

export function profileToolCalls(calls: ToolCall[]): ToolProfileRow[] {
  const rows = new Map<string, ToolProfileRow>();
  for (const call of calls) {
    const row = rows.get(call.kind) ?? { kind: call.kind, count: 0, failed: 0, totalMs: 0 };
    row.count++;
    if (call.exitCode !== 0) row.failed++;
    row.totalMs += call.endMs - call.startMs;
    rows.set(call.kind, row);
  }
  return [...rows.values()].sort((a, b) => b.totalMs - a.totalMs);
}
