import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, type ResultPromise } from 'execa';

/** A long-running helper process (Temporal dev server, registry, broker) whose output goes to a log file. */
export interface ServiceProcess {
  readonly name: string;
  readonly logFile: string;
  stop: () => Promise<void>;
}

export function startService(
  name: string,
  file: string,
  args: string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): ServiceProcess & { child: ResultPromise } {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = execa(file, args, {
    env,
    stdin: 'ignore',
    stdout: ['pipe'],
    stderr: ['pipe'],
    reject: false,
    cleanup: true,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let stopped: Promise<void> | undefined;
  return {
    name,
    logFile,
    child,
    stop: () => {
      stopped ??= (async () => {
        if (child.exitCode === null) {
          child.kill('SIGTERM');
          // Unref'd: a service that stopped at once must not hold the process open for the rest of the grace time.
          const exited = await Promise.race([
            child.then(() => true),
            sleep(10_000, undefined, { ref: false }).then(() => false),
          ]);
          if (!exited) child.kill('SIGKILL');
          await child;
        }
        log.end();
      })();
      return stopped;
    },
  };
}

/** Polls `probe` until it resolves true; fails with the service's log path when the process dies or time runs out. */
export async function waitUntilReady(
  service: ServiceProcess & { child: ResultPromise },
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null) {
      throw new Error(
        `${service.name} exited with code ${service.child.exitCode} before it was ready; see ${service.logFile}`,
      );
    }
    if (await probe().catch(() => false)) return;
    await sleep(200);
  }
  await service.stop();
  throw new Error(`${service.name} did not become ready within ${timeoutMs / 1000}s; see ${service.logFile}`);
}
