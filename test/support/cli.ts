import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

/** The installed entry point, as a user runs it. */
export const CLI = fileURLToPath(new URL('../../bin/compose-publisher.js', import.meta.url));

/** Runs `compose-publisher [--config FILE] ARGS…` as a process, never taking the config from the environment. */
export function cli(
  args: string[],
  configFile?: string,
  { env, ...options }: { cwd?: string; stdin?: 'ignore'; env?: Record<string, string> } = {},
) {
  return execa('node', [CLI, ...(configFile ? ['--config', configFile] : []), ...args], {
    reject: false,
    ...options,
    env: { COMPOSE_PUBLISHER_CONFIG: undefined, ...env },
  });
}
