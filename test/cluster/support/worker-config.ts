import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

/** What every worker of the cluster suite publishes: fedora for two arches, release 41 is also "latest". */
export const ARCHES = { x86_64: 'amd64', aarch64: 'arm64' } as const;
export const LATEST_RELEASE = '41';

/**
 * The config of one `compose-publisher worker` on the cluster, as an operator writes it: the cluster's address,
 * one task queue for all workers, both registries (under `registryNamespace`), and a work dir of its own.
 */
export function writeClusterWorkerConfig(
  home: string,
  options: { taskQueue: string; registryNamespace: string },
): string {
  mkdirSync(home, { recursive: true });
  const file = join(home, 'config.toml');
  const registries = inject('registryHosts').map(
    (host) => `[[registries]]\nurl = "${host}/${options.registryNamespace}"\ntls_verify = false\n`,
  );
  writeFileSync(
    file,
    `[temporal]
address = "${inject('temporalAddress')}"
namespace = "${inject('temporalNamespace')}"
task_queue = "${options.taskQueue}"

${registries.join('\n')}
[repositories]
Container_Base = "fedora"

[architectures]
${Object.entries(ARCHES)
  .map(([compose, oci]) => `${compose} = "${oci}"`)
  .join('\n')}

[releases]
latest = "${LATEST_RELEASE}"

[gate]
wait_for_override = "10m"

[publish]
work_dir = "${join(home, 'work')}"
max_parallel_pushes = 2
`,
  );
  return file;
}
