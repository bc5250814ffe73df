import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { runTool } from '../../src/tools/run-tool.js';
import { ToolError } from '../../src/tools/tool-error.js';
import { scratchSubdir } from '../support/temporal.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('how tools run', () => {
  it('see none of the worker’s secrets: only PATH, HOME, locale and proxy variables', async () => {
    process.env.QUAY_IO_PASSWORD = 'hunter2';
    process.env.TEMPORAL_API_KEY = 'secret-key';
    try {
      const seen = await runTool('sh', ['-c', 'env']);
      expect(seen).not.toContain('hunter2');
      expect(seen).not.toContain('secret-key');
      expect(seen).toContain(`PATH=${process.env.PATH}`);
    } finally {
      delete process.env.QUAY_IO_PASSWORD;
      delete process.env.TEMPORAL_API_KEY;
    }
  });

  it('die with the worker, even when it is SIGKILLed', async () => {
    const marker = `${300 + Math.floor(Math.random() * 1000)}`;
    const script = join(scratchSubdir('tool-process'), 'worker.mts');
    const runToolModule = fileURLToPath(new URL('../../src/tools/run-tool.ts', import.meta.url));
    writeFileSync(
      script,
      `import { runTool } from ${JSON.stringify(runToolModule)};\nrunTool('sleep', [${JSON.stringify(marker)}]).catch(() => {});\nsetInterval(() => {}, 1000);\n`,
    );
    const worker = execa('node', ['--import', 'tsx', script], { reject: false });
    let toolPid: number | undefined;
    for (let i = 0; i < 100 && toolPid === undefined; i++) {
      await sleep(100);
      const found = await execa('pgrep', ['-f', `^sleep ${marker}$`], { reject: false });
      toolPid = found.stdout ? Number(found.stdout.split('\n')[0]) : undefined;
    }
    expect(toolPid).toBeDefined();
    worker.kill('SIGKILL');
    await worker;
    for (let i = 0; i < 50 && alive(toolPid!); i++) await sleep(100);
    expect(alive(toolPid!)).toBe(false);
  }, 30_000);

  it('start from the small tool launcher, not from the worker, and one that dies fails only what it ran (retried)', async () => {
    const parentOf = async () => Number((await runTool('sh', ['-c', 'echo $PPID'])).trim());
    const launcher = await parentOf();
    expect(launcher).not.toBe(process.pid);
    expect(readFileSync(`/proc/${launcher}/cmdline`, 'utf8')).toContain('tool-launcher-process');
    // The worker's fork of a 300 MiB process was the cost the launcher takes away: its own RSS stays small.
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${launcher}/status`, 'utf8'))?.[1]);
    expect(rssKiB).toBeLessThan(150 * 1024);

    const running = runTool('sleep', ['30']).catch((error: unknown) => error);
    await sleep(300);
    process.kill(launcher, 'SIGKILL');
    const failed = await running;
    expect(failed).toBeInstanceOf(ToolError);
    expect((failed as ToolError).kind).toBe('transient');
    expect((failed as ToolError).stderr).toMatch(/the tool launcher exited \(SIGKILL\)/);
    const next = await parentOf();
    expect(next).not.toBe(launcher);
    expect(await runTool('echo', ['again'])).toBe('again\n');
  }, 30_000);
});
