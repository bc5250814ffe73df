// A newcomer's first hour: the commands of the README's "Using it" block, run as written (in a fresh directory
// holding the project's config/), against the embedded Temporal and the local registry they start.
import { cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { describe, expect, it } from 'vitest';
import { until } from '../support/faults.js';
import { scratchSubdir } from '../support/temporal.js';

const PROJECT = resolve(import.meta.dirname, '../..');

/** The README's "Using it" code block: one command a line, comments dropped. */
function usingItCommands(): string[] {
  const readme = readFileSync(join(PROJECT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Using it'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

describe("the README's first steps, on config/local.toml", () => {
  it('runs every command of "Using it" as written: the demo, the local registry, a worker with its embedded Temporal, publish, status, schedule, report', async () => {
    const commands = usingItCommands();
    expect(commands[0]).toMatch(/^npm run demo/);
    expect(commands).toContain('cp config/local.toml compose-publisher.toml');

    const home = scratchSubdir('first-hour');
    cpSync(join(PROJECT, 'config'), join(home, 'config'), { recursive: true });
    mkdirSync(join(home, 'node_modules', '.bin'), { recursive: true });
    // `npx compose-publisher` and `npm run demo` find the project from here, as in a checkout.
    symlinkSync(join(PROJECT, 'bin', 'compose-publisher.js'), join(home, 'node_modules', '.bin', 'compose-publisher'));
    const env = { COMPOSE_PUBLISHER_CONFIG: undefined, CI: 'true' };
    const background: ResultPromise[] = [];
    const transcript: string[] = [];
    try {
      for (const command of commands) {
        if (process.env.FIRST_HOUR_LOG) console.log(`${new Date().toISOString()} $ ${command}`);
        if (command.startsWith('npm run demo')) {
          // The demo's own script, from this directory: `npm run demo` is `tsx src/cli/main.ts demo` in the project.
          const demo = await execa(
            'node',
            [join(PROJECT, 'bin', 'compose-publisher.js'), 'demo', ...command.split(' ').slice(4)],
            { cwd: home, env, reject: false, all: true },
          );
          transcript.push(`$ ${command} → ${demo.exitCode}`);
          expect(demo.exitCode, demo.all).toBe(0);
          continue;
        }
        if (command.endsWith('&')) {
          // Its own process group: npx does not pass SIGTERM on to the worker it runs, so the group is stopped.
          const child = execa('bash', ['-c', command.slice(0, -1)], {
            cwd: home,
            env: { ...env, PATH: `${join(home, 'node_modules', '.bin')}:${process.env.PATH}` },
            reject: false,
            all: true,
            detached: true,
          });
          background.push(child);
          transcript.push(`$ ${command}`);
          if (command.includes('compose-publisher worker')) {
            let output = '';
            child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
            await until(
              'the worker to poll',
              () => {
                if (child.exitCode !== null) throw new Error(`the worker exited:\n${output}`);
                return output.includes('"worker polling"');
              },
              120_000,
            );
          } else {
            await until(
              'the registry to answer',
              async () => (await fetch('http://127.0.0.1:5000/v2/').catch(() => undefined))?.ok,
            );
          }
          continue;
        }
        const result = await execa('bash', ['-c', command], {
          cwd: home,
          env: { ...env, PATH: `${join(home, 'node_modules', '.bin')}:${process.env.PATH}` },
          reject: false,
          all: true,
        });
        transcript.push(`$ ${command} → ${result.exitCode}`);
        expect(result.exitCode, `${command}\n${result.all}`).toBe(0);
        if (command.includes(' publish ')) expect(result.stdout).toMatch(/fedora\s+pass\s+amd64 arm64/);
      }
      const tags = (await (await fetch('http://127.0.0.1:5000/v2/fedora/fedora/tags/list')).json()) as {
        tags: string[];
      };
      expect(tags.tags.sort()).toEqual(expect.arrayContaining(['40', '40-aarch64', '40-x86_64', 'latest']));
    } finally {
      for (const child of background.reverse()) await stopGroup(child);
      console.log(transcript.join('\n'));
    }
    // The worker stopped the embedded Temporal it started: nothing is left on the README's port.
    await expect(fetch('http://127.0.0.1:8233/')).rejects.toThrow();
  }, 300_000);
});

describe("the demo's closing note", () => {
  it('prints commands that run as printed while the demo keeps its stack up: status, report, override', async () => {
    const home = scratchSubdir('demo-commands');
    mkdirSync(join(home, 'node_modules', '.bin'), { recursive: true });
    symlinkSync(join(PROJECT, 'bin', 'compose-publisher.js'), join(home, 'node_modules', '.bin', 'compose-publisher'));
    const env = {
      COMPOSE_PUBLISHER_CONFIG: undefined,
      PATH: `${join(home, 'node_modules', '.bin')}:${process.env.PATH}`,
    };
    const demo = execa('node', [join(PROJECT, 'bin', 'compose-publisher.js'), 'demo', '--keep'], {
      cwd: home,
      env,
      reject: false,
      all: true,
      detached: true,
    });
    let output = '';
    demo.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await until(
        'the demo to tell its story',
        () => {
          if (demo.exitCode !== null) throw new Error(`the demo exited:\n${output}`);
          return output.includes('Ctrl-C stops them');
        },
        240_000,
      );
      const commands = output
        .split('\n')
        .map((line) => line.trim())
        .filter((line) => line.startsWith('npx compose-publisher '));
      expect(commands.map((command) => /--config \S+ (\w+)/.exec(command)?.[1])).toEqual([
        'status',
        'report',
        'override',
      ]);
      const exits: number[] = [];
      for (const command of commands) {
        const result = await execa('sh', ['-c', command], { cwd: home, env, reject: false, all: true });
        exits.push(result.exitCode ?? -1);
        if (command.includes(' override '))
          expect(result.stdout).toMatch(/^accepted: fedora → hybrid by .*: aarch64 build failed$/);
      }
      // status: the run is blocked (3); report and the override: done (0).
      expect(exits).toEqual([3, 0, 0]);
    } finally {
      await stopGroup(demo);
    }
  }, 300_000);
});

/** SIGTERM to the process group of `child` (the worker stops its embedded Temporal on it), SIGKILL after 20 s. */
async function stopGroup(child: ResultPromise): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, name);
    } catch {
      // already gone
    }
  };
  signal('SIGTERM');
  const killer = setTimeout(() => signal('SIGKILL'), 20_000);
  await child;
  clearTimeout(killer);
}
