/**
 * CPU time from /proc, for a ratio that the noise of a shared machine blurs less than wall time does: the user +
 * system time of a process (utime, stime) and of the children it waited for (cutime, cstime), in clock ticks
 * (`getconf CLK_TCK`), fields 14–17 of /proc/<pid>/stat.
 *
 * - A process tree (the worker, the Temporal server): its own four fields plus, recursively, those of its live
 *   descendants (a tool still running when the tree is read has not been waited for yet).
 * - The children of this process (the plain tools, the CLI): cutime + cstime of /proc/self/stat, which grow when
 *   this process waits for a child that ended.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

/** `getconf CLK_TCK`, once (100 on Linux). */
export function clockTicksPerSecond(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

interface StatFields {
  ppid: number;
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

function readStat(pid: number | 'self'): StatFields | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined; // gone meanwhile
  }
  // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after its last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const field = (n: number) => Number(rest[n - 3]);
  return { ppid: field(4), utime: field(14), stime: field(15), cutime: field(16), cstime: field(17) };
}

function childrenByParent(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  return children;
}

/** CPU seconds so far of `pid`, the children it waited for, and its live descendants (theirs likewise). */
export function processTreeCpuSeconds(pid: number): number {
  const children = childrenByParent();
  const ticks = (p: number): number => {
    const stat = readStat(p);
    if (!stat) return 0;
    return (
      stat.utime +
      stat.stime +
      stat.cutime +
      stat.cstime +
      (children.get(p) ?? []).reduce((sum, child) => sum + ticks(child), 0)
    );
  };
  return ticks(pid) / clockTicksPerSecond();
}

/** CPU seconds so far of `pid` itself (utime + stime): a worker's node process without the tools it ran. */
export function processOwnCpuSeconds(pid: number): number {
  const stat = readStat(pid);
  return stat ? (stat.utime + stat.stime) / clockTicksPerSecond() : 0;
}

/** CPU seconds so far of the children this process waited for (cutime + cstime of /proc/self/stat). */
export function waitedChildrenCpuSeconds(): number {
  const stat = readStat('self')!;
  return (stat.cutime + stat.cstime) / clockTicksPerSecond();
}

/** CPU seconds so far of this process itself (utime + stime of /proc/self/stat). */
export function ownCpuSeconds(): number {
  const stat = readStat('self')!;
  return (stat.utime + stat.stime) / clockTicksPerSecond();
}

/**
 * The pids of this process's children whose command line contains every one of `words` (e.g. the Temporal dev
 * server: `server`, `start-dev` and its port), for processes a module started without handing out their pid.
 */
export function childPidsMatching(words: string[]): number[] {
  const pids: number[] = [];
  for (const pid of childrenByParent().get(process.pid) ?? []) {
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (words.every((word) => args.includes(word))) pids.push(pid);
  }
  return pids;
}
