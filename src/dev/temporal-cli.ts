import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execaSync } from 'execa';

const PROJECT_VENV_CLI = fileURLToPath(new URL('../../.tools/temporal-venv/bin/temporal', import.meta.url));

/**
 * The Temporal CLI binary, looked up in this order:
 * TEMPORAL_CLI_PATH, `temporal` on PATH, the project-local venv that scripts/setup.sh fills.
 */
export function temporalCliPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TEMPORAL_CLI_PATH) return env.TEMPORAL_CLI_PATH;
  if (runs('temporal')) return 'temporal';
  if (existsSync(PROJECT_VENV_CLI)) return PROJECT_VENV_CLI;
  throw new Error(
    'No Temporal CLI found: run `bash scripts/setup.sh` (installs it under .tools/), put `temporal` on PATH, ' +
      'or set TEMPORAL_CLI_PATH to the binary.',
  );
}

function runs(file: string): boolean {
  try {
    execaSync(file, ['--version']);
    return true;
  } catch {
    return false;
  }
}
