// A namespace made before StaleRepositories existed (an upgraded deployment): its own dev server, with only the
// three search attributes the README used to name. The worker, `report` and `schedule` must say so at once.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import type { ResultPromise } from 'execa';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ClientError } from '../../src/client/client-error.js';
import { checkSearchAttributes } from '../../src/client/search-attributes.js';
import { runStalenessReport } from '../../src/client/staleness.js';
import { loadConfig, publishSettings } from '../../src/config.js';
import { startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import { SEARCH_ATTRIBUTES } from '../../src/domain/run-contract/search-attributes.js';
import { createPublisherWorker } from '../../src/worker.js';
import { cli } from '../support/cli.js';
import { workflowBundle } from '../support/publisher.js';
import { scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

const { StaleRepositories: _left, ...OLD_ATTRIBUTES } = SEARCH_ATTRIBUTES;
const CREATE_COMMAND =
  'temporal operator search-attribute create --namespace default --name StaleRepositories --type KeywordList';

describe('a namespace without StaleRepositories', () => {
  let server: DevServer;
  let dir: string;
  let connection: Connection;
  let client: Client;

  function writeConfig(name: string, extraTemporal = ''): string {
    const file = join(dir, `${name}.toml`);
    writeFileSync(
      file,
      `[temporal]\naddress = "${server.address}"\nnamespace = "default"\ntask_queue = "${uniqueTaskQueue(name)}"\n${extraTemporal}\n` +
        `[[registries]]\nurl = "${inject('registryHost')}/namespace-check"\ntls_verify = false\n\n` +
        `[repositories]\nContainer_Base = "fedora"\n\n[architectures]\nx86_64 = "amd64"\n\n[publish]\nwork_dir = "${join(dir, `work-${name}`)}"\n`,
    );
    return file;
  }

  beforeAll(async () => {
    try {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
    } catch {
      // installed by another test of this process
    }
    dir = scratchSubdir('namespace-check');
    server = await startTemporalDevServer({ dataDir: join(dir, 'temporal'), searchAttributes: OLD_ATTRIBUTES });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: 'default' });
  });
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  it('the worker refuses to start, exit code 2, naming the attribute and the command that creates it', async () => {
    const started = Date.now();
    const worker = await cli(['worker'], writeConfig('refuse'), { stdin: 'ignore' });
    if (process.env.PRINT_MESSAGES) console.log(worker.stderr);
    expect(worker.exitCode, worker.stderr).toBe(2);
    expect(worker.stderr).toContain('namespace default has no search attribute StaleRepositories (KeywordList)');
    expect(worker.stderr).toContain(CREATE_COMMAND);
    expect(worker.stderr).toContain('create_search_attributes = true');
    expect(worker.stderr).not.toContain('--name ComposeId');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('report and schedule refuse the same before they start anything', async () => {
    const configFile = writeConfig('report-refuse');
    for (const command of [['report'], ['schedule']]) {
      const started = Date.now();
      const result = await cli(command, configFile);
      expect(result.exitCode, `${command[0]}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('no search attribute StaleRepositories');
      expect(result.stderr).toContain(CREATE_COMMAND);
      expect(Date.now() - started).toBeLessThan(30_000);
    }
    const runs = [];
    for await (const execution of client.workflow.list({
      query: `TaskQueue = '${loadConfig(configFile).temporal.task_queue}'`,
    }))
      runs.push(execution.workflowId);
    expect(runs).toEqual([]);
    const schedules = [];
    for await (const schedule of client.schedule.list()) schedules.push(schedule.scheduleId);
    expect(schedules).toEqual([]);
  });

  it('a report run stuck on it (a worker that does not check) ends at the deadline with the workflow task failure', async () => {
    const config = loadConfig(writeConfig('stuck'));
    const workerConnection = await NativeConnection.connect({ address: server.address });
    try {
      const worker = await createPublisherWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue: config.temporal.task_queue,
        workDir: config.publish.work_dir,
        settings: publishSettings(config),
        workflowBundle: await workflowBundle(),
      });
      const progress: string[] = [];
      const started = Date.now();
      const error = await worker.runUntil(
        runStalenessReport(client, config, {
          deadlineMs: 10_000,
          progressMs: 2_000,
          onProgress: (line) => progress.push(line),
        }).then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      if (process.env.PRINT_MESSAGES) console.log([...progress, (error as Error).message].join('\n'));
      expect(error).toBeInstanceOf(ClientError);
      expect((error as ClientError).kind).toBe('stuck');
      expect((error as ClientError).message).toMatch(
        /BadSearchAttributes: Namespace default has no mapping defined for search attribute StaleRepositories/,
      );
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(progress.length).toBeGreaterThan(0);
      expect(progress.join('\n')).toMatch(/^report: \d+ s, /m);
      // Nobody waits for it any more and it cannot move: terminated, not left to retry for ever.
      const runs = [];
      for await (const execution of client.workflow.list({ query: `TaskQueue = '${config.temporal.task_queue}'` }))
        runs.push(execution.status.name);
      expect(runs).toEqual(['TERMINATED']);
    } finally {
      await workerConnection.close();
    }
  });

  it('with [temporal] create_search_attributes = true the worker creates it and starts, and report runs', async () => {
    const configFile = writeConfig('create', 'create_search_attributes = true\n');
    const child: ResultPromise = cli(['worker'], configFile, { stdin: 'ignore' });
    const lines: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    try {
      const deadline = Date.now() + 90_000;
      while (!lines.some((line) => line.includes('"worker polling"'))) {
        if (child.exitCode !== null || Date.now() > deadline)
          throw new Error(`worker did not start:\n${lines.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(lines.join('\n')).toContain(
        'created search attribute StaleRepositories (KeywordList) in namespace default',
      );
      expect(await checkSearchAttributes(connection, 'default')).toEqual({ problems: [] });
      const report = await cli(['report', '--json', '--deadline', '90s'], configFile);
      expect(report.exitCode, report.stderr).toBe(0);
      expect(JSON.parse(report.stdout)).toMatchObject({ rows: [], staleRepositories: [] });
    } finally {
      child.kill('SIGTERM');
      await child;
    }
  });
});
