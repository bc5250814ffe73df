import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

/**
 * Writes a config file that points at the harness's Temporal server and registry (under its own registry
 * namespace), for tests that run the CLI as a process. `extra` is appended TOML.
 */
export function writeHarnessConfig(
  dir: string,
  options: {
    taskQueue: string;
    registryNamespace: string;
    extra?: string;
    repositories?: Record<string, string>;
    architectures?: Record<string, string>;
  },
): string {
  const file = join(dir, `${options.taskQueue}.toml`);
  const table = (entries: Record<string, string>) =>
    Object.entries(entries)
      .map(([key, value]) => `${key} = "${value}"`)
      .join('\n');
  writeFileSync(
    file,
    `[temporal]
address = "${inject('temporalAddress')}"
namespace = "${inject('temporalNamespace')}"
task_queue = "${options.taskQueue}"

[[registries]]
url = "${inject('registryHost')}/${options.registryNamespace}"
tls_verify = false

[repositories]
${table(options.repositories ?? { Container_Base: 'fedora' })}

[architectures]
${table(options.architectures ?? { x86_64: 'amd64', aarch64: 'arm64' })}
${options.extra ?? ''}`,
  );
  return file;
}
