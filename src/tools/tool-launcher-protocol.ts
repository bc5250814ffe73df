/** What the worker and its tool launcher (tool-launcher-process.ts) say to each other over the IPC channel. */
export type LauncherRequest =
  | {
      kind: 'run';
      id: number;
      file: string;
      args: string[];
      env: Record<string, string>;
      /** Write the tool's stdout to this file (created or truncated) instead of returning it. */
      stdoutFile?: string;
      /** Send each line the tool writes (stdout and stderr) as it comes. */
      lines?: boolean;
    }
  | { kind: 'kill'; id: number };

export type LauncherReply =
  | { kind: 'line'; id: number; line: string }
  | {
      kind: 'done';
      id: number;
      stdout: string;
      stderr: string;
      exitCode?: number;
      signal?: string;
      /** The tool never started (e.g. ENOENT: no such program, or the working directory is gone). */
      spawnError?: { code: string; message: string };
    };
