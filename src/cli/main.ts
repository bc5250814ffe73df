// Each command's module is imported when it runs: `publish` need not load the worker's native SDK core.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliError, EXIT } from './exit-codes.js';
import { configFromOptions } from './load-config.js';
import type { OverrideOptions } from './commands/override.js';
import type { LogLevel } from '@temporalio/common';
import { ConfigError } from '../config.js';
import { ClientError } from '../client/client-error.js';
import { OVERRIDE_MODES } from '../domain/override.js';
import { GATE_DECISION_KINDS } from '../domain/types.js';
import { durationMs } from '../domain/duration.js';

const program = new Command('compose-publisher')
  .description(
    "Publishes an OS compose's container images (per-arch images, then the multi-arch index) to registries with Temporal,\n" +
      'and never replaces an index that would drop an architecture users pull today.\n\n' +
      'Exit codes: 0 done (published, noop, skipped) · 3 a repository is blocked · 1 the run failed · 2 bad usage or config.',
  )
  .addOption(new Option('-c, --config <file>', 'TOML config file').env('COMPOSE_PUBLISHER_CONFIG'))
  .addOption(
    new Option('--log-level <level>', 'log level of worker and listen (JSON lines on stderr)')
      .choices(['trace', 'debug', 'info', 'warn', 'error'])
      .default('info'),
  )
  .showHelpAfterError()
  .exitOverride();

const config = () => configFromOptions(program.opts<{ config?: string }>().config);
const logLevel = () => program.opts<{ logLevel: string }>().logLevel.toUpperCase() as LogLevel;

program
  .command('worker')
  .description(
    'run a worker; without [temporal] address it first starts an embedded Temporal dev server (127.0.0.1:7233, UI on [temporal] ui_port, default 8233)',
  )
  .action(async () => {
    await (await import('./commands/worker.js')).runWorkerCommand(config(), logLevel());
  });

program
  .command('listen')
  .description(
    'consume Pungi compose status messages ([amqp] in the config) and start the run of each finished compose;\n' +
      'one JSON log line per message; bad messages go to the dead-letter queue; stops on SIGINT/SIGTERM',
  )
  .action(async () => {
    await (await import('./commands/listen.js')).runListenCommand(config(), logLevel());
  });

program
  .command('publish')
  .description('start the run for a compose (idempotent: one run per compose id)')
  .argument(
    '<location>',
    'the compose: a local path or an http(s):// URL of its top directory or of its compose/ directory (metadata/ is looked for in both)',
  )
  .option('--wait', "wait until the run ends and report every repository's decision")
  .option('--json', 'machine-readable output')
  .action(async (location: string, options: { wait?: boolean; json?: boolean }) => {
    process.exitCode = await (await import('./commands/publish.js')).runPublishCommand(config(), location, options);
  });

program
  .command('status')
  .description('show a run: phase, and per repository the decision with built, published and missing arches')
  .argument('<compose-id>', 'e.g. Fedora-40-20240501.n.0')
  .option('--json', 'machine-readable output: repositories[].{repository, decision, built, published, missing}')
  .action(async (composeId: string, options: { json?: boolean }) => {
    process.exitCode = await (await import('./commands/status.js')).runStatusCommand(config(), composeId, options);
  });

program
  .command('list')
  .description('list runs through the search attributes (the same filter works in the Temporal UI), newest first')
  .addOption(
    new Option('--decision <decision>', 'only runs with a repository in this decision').choices(GATE_DECISION_KINDS),
  )
  .option('--release <release>', 'only runs for this release, e.g. 40')
  .option('--json', 'machine-readable output')
  .action(async (options: { decision?: string; release?: string; json?: boolean }) => {
    process.exitCode = await (await import('./commands/list.js')).runListCommand(config(), options);
  });

program
  .command('override')
  .description('decide for a blocked repository of a running run; recorded with who, why and when')
  .addHelpText(
    'after',
    '\nModes:\n' +
      '  hybrid             new images, plus the published image of each missing arch\n' +
      '  publish-available  only the arches this compose built (drops the missing ones)\n' +
      '  skip               leave the published index as it is',
  )
  .argument('<compose-id>', 'e.g. Fedora-40-20240501.n.0')
  .addOption(new Option('--mode <mode>', 'what to publish').choices(OVERRIDE_MODES).makeOptionMandatory())
  .requiredOption('--reason <text>', "why: recorded in the run's history and shown by status")
  .option('--operator <name>', 'who decides (default: the local user name)')
  .option('--repository <name>', 'the blocked repository (default: every blocked repository of the run)')
  .option('--json', 'machine-readable output')
  .action(async (composeId: string, options: OverrideOptions) => {
    process.exitCode = await (await import('./commands/override.js')).runOverrideCommand(config(), composeId, options);
  });

program
  .command('schedule')
  .description(
    'create or update the Temporal Schedule that runs the staleness report every [staleness] every (idempotent)',
  )
  .action(async () => {
    process.exitCode = await (await import('./commands/schedule.js')).runScheduleCommand(config());
  });

program
  .command('report')
  .description(
    'how far each published arch lags: per repository, tag, registry and arch, the compose the index serves and the newest; stale rows first, with the command that fixes each',
  )
  .option('--json', 'machine-readable output: the whole report (rows, staleRepositories, newCrossings, waiting)')
  .addOption(
    new Option(
      '--deadline <duration>',
      'give up after this long (e.g. 60s, 5m), saying what the run is stuck on; exit code 1',
    )
      .default('60s')
      .argParser(parseDuration),
  )
  .action(async (options: { json?: boolean; deadline: number | string }) => {
    const deadlineMs = typeof options.deadline === 'number' ? options.deadline : parseDuration(options.deadline);
    process.exitCode = await (
      await import('./commands/report.js')
    ).runReportCommand(config(), { ...(options.json ? { json: true } : {}), deadlineMs });
  });

program
  .command('demo')
  .description(
    'the whole thing on embedded defaults: Temporal with its UI, a local registry, a worker, two sample composes (one blocked);\nthen it keeps them up to explore, printing the UI link and ready-to-paste status/override commands',
  )
  .option(
    '--keep',
    'after the story, keep Temporal, the registry and a worker running until Ctrl-C (the default, except when CI is set)',
  )
  .option('--no-keep', 'stop everything once the story is told')
  .option('--data-dir <dir>', 'where the demo keeps its state (emptied first)', '.data/demo')
  .addOption(
    new Option('--ui-port <port>', 'port of the Temporal UI (default 8233, or a free port when it is taken)').argParser(
      parsePort,
    ),
  )
  .action(async (options: { keep?: boolean; dataDir: string; uiPort?: number }) => {
    process.exitCode = await (await import('./commands/demo.js')).runDemoCommand(options);
  });

function parseDuration(value: string): number {
  try {
    const ms = durationMs(value);
    if (ms > 0) return ms;
  } catch {
    // below
  }
  throw new InvalidArgumentError(`${JSON.stringify(value)} is not a duration like "60s" or "5m"`);
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError(`${JSON.stringify(value)} is not a TCP port (1-65535)`);
  return port;
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}

function report(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT.done : EXIT.usage;
  if (thrown(error, ConfigError, 'ConfigError')) {
    console.error(`compose-publisher: ${error.message}`);
    return EXIT.usage;
  }
  if (thrown(error, CliError, 'CliError')) {
    console.error(`compose-publisher: ${error.message}`);
    return error.exitCode;
  }
  if (thrown(error, ClientError, 'ClientError')) {
    console.error(`compose-publisher: ${error.message}`);
    return error.kind === 'bad-request' || error.kind === 'namespace' ? EXIT.usage : EXIT.failed;
  }
  console.error(`compose-publisher: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return EXIT.failed;
}

/**
 * Whether `error` is one of the CLI's own errors. By its name too: run from the CLI bundle (scripts/bundle-cli.mjs),
 * the worker-side commands load from dist/ beside it, with their own copy of each class.
 */
function thrown<T extends Error>(error: unknown, type: abstract new (...args: never[]) => T, name: string): error is T {
  return error instanceof type || (error instanceof Error && error.name === name);
}
