import { isWorkerPath, workerFaultInOutput, workerFaultOfCode, type WorkerFault } from '../domain/worker-storage.js';
import { ToolError } from './tool-error.js';

export interface FoundWorkerFault {
  fault: WorkerFault;
  /** The tool's or node's own words for it, one short line. */
  detail: string;
}

/**
 * The worker fault `error` (or one of its causes) stands for: a node fs error with ENOSPC, EACCES, EMFILE… (a
 * refused write only when its path is in `workDir`), or a tool that failed saying so ("No space left on device").
 * A registry that refuses our credentials is the registry's business, not the disk's.
 */
export function workerFaultOf(error: unknown, workDir?: string): FoundWorkerFault | undefined {
  for (
    let current: unknown = error, depth = 0;
    current instanceof Error && depth < 8;
    current = current.cause, depth++
  ) {
    if (current instanceof ToolError) {
      if (current.kind === 'unauthorized') return undefined;
      const fault = workerFaultInOutput(current.stderr);
      if (fault) {
        const line = lastLine(current.stderr);
        return { fault, detail: line.startsWith(`${current.tool}: `) ? line : `${current.tool}: ${line}` };
      }
      continue;
    }
    const { code, path, syscall } = current as NodeJS.ErrnoException;
    const fault = workerFaultOfCode(code);
    if (fault && isWorkerPath(fault.code, path, workDir))
      return { fault, detail: `${syscall ?? 'fs'}${path ? ` ${path}` : ''}: ${current.message}` };
  }
  return undefined;
}

function lastLine(output: string): string {
  const lines = output
    .replace(/[^\x20-\x7e\n]/g, '?')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const line = lines.findLast((candidate) => workerFaultInOutput(candidate)) ?? lines.at(-1) ?? 'no output';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
