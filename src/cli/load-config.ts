import { existsSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config.js';

const DEFAULT_FILE = 'compose-publisher.toml';

/** --config, else COMPOSE_PUBLISHER_CONFIG, else ./compose-publisher.toml. */
export function configFromOptions(option: string | undefined, env: NodeJS.ProcessEnv = process.env): Config {
  const file = option ?? env.COMPOSE_PUBLISHER_CONFIG ?? (existsSync(DEFAULT_FILE) ? DEFAULT_FILE : undefined);
  if (!file) {
    throw new ConfigError(
      `no configuration: pass --config FILE, set COMPOSE_PUBLISHER_CONFIG, or create ./${DEFAULT_FILE} (start from config/local.toml, or config/fedora.toml for production)`,
    );
  }
  return loadConfig(file);
}
