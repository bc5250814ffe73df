import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, publishSettings, type Config } from '../../src/config.js';
import { POLICY_OPERATOR } from '../../src/domain/override.js';
import type { StalenessReport } from '../../src/domain/staleness.js';
import { startRabbitMq, type RabbitMqServer } from '../../src/dev/rabbitmq-server.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { reportStaleness } from '../../src/workflows/report-staleness.js';
import { STALE_REPOSITORIES } from '../../src/domain/run-contract/index.js';
import { cli } from '../support/cli.js';
import { makeCompose, type MadeCompose } from '../support/compose-factory.js';
import { writeHarnessConfig } from '../support/config-file.js';
import { recordHistory } from '../support/histories.js';
import { runPublish, withPublisherWorker } from '../support/publisher.js';
import { connectTestEnvironment, scratchSubdir, uniqueTaskQueue } from '../support/temporal.js';

const PREFIX = 'org.fedoraproject.stale-test';
const anonymous = { tlsVerify: false };
// Release 37 is this file's own: the report counts the composes of a release that its task queue published.
const FIRST = 'Fedora-37-20250701.n.0';
const BLOCKED = ['Fedora-37-20250702.n.0', 'Fedora-37-20250703.n.0', 'Fedora-37-20250704.n.0'];

describe('stale arches: the report, its announcement, its schedule, and the hybrid policy at the end of the wait', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let broker: RabbitMqServer;
  let configFile: string;
  let config: Config;
  let first: MadeCompose;
  let blocked: MadeCompose[];

  beforeAll(async () => {
    env = await connectTestEnvironment();
    dir = scratchSubdir('staleness');
    const storage = { root: join(dir, 'storage'), runroot: join(dir, 'runroot') };
    const started = startRabbitMq({ dataDir: join(dir, 'rabbitmq') });
    const images = (arches: string[]) => ({ Container_Base: arches, Container_Minimal_Base: arches });
    first = await makeCompose(
      { composeId: FIRST, images: images(['x86_64', 'aarch64']), format: '1.2' },
      { dir, storage },
    );
    blocked = [];
    for (const composeId of BLOCKED)
      blocked.push(await makeCompose({ composeId, images: images(['x86_64']), format: '1.2' }, { dir, storage }));
    broker = await started;
    configFile = writeHarnessConfig(dir, {
      taskQueue: uniqueTaskQueue('staleness'),
      registryNamespace: `staleness-${Date.now()}`,
      repositories: { Container_Base: 'fedora', Container_Minimal_Base: 'fedora-minimal' },
      extra: `
[gate]
wait_for_override = "1s"
when_wait_ends = "stay-blocked"

[gate.when_wait_ends_for]
fedora-minimal = "hybrid"

[staleness]
every = "30m"
warn_after = "2d"

[amqp]
url = "${broker.url}"
topic_prefix = "${PREFIX}"
`,
    });
    config = loadConfig(configFile);
  }, 240_000);
  afterAll(async () => {
    await broker?.stop();
    await env?.teardown();
  });

  async function subscribe() {
    const connection = await amqp.connect(broker.url);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, config.amqp!.exchange, `${PREFIX}.compose_publisher.container.stale`);
    const received: Array<{ body: Record<string, unknown>; headers: Record<string, unknown>; messageId: string }> = [];
    await channel.consume(
      queue,
      (message) => {
        if (message)
          received.push({
            body: JSON.parse(message.content.toString()) as Record<string, unknown>,
            headers: message.properties.headers ?? {},
            messageId: String(message.properties.messageId),
          });
      },
      { noAck: true },
    );
    return { received, close: () => connection.close() };
  }

  const inWorker = <T>(body: () => Promise<T>) =>
    withPublisherWorker(env, dir, body, {
      taskQueue: config.temporal.task_queue,
      settings: publishSettings(config),
      amqpUrl: broker.url,
    });

  async function index(repository: string) {
    const found = await inspectRemote(`${config.registries[0]!.url}/${repository}:37`, anonymous);
    if (found.kind !== 'index') throw new Error(`${repository}:37 is ${found.kind}, not an index`);
    return Object.fromEntries(
      found.instances.map((i) => [
        i.architecture,
        { digest: i.digest, composeId: i.annotations['org.fedoraproject.compose.id'] },
      ]),
    );
  }

  it('a repository blocked for three composes reports its arches three composes behind; hybrid by policy publishes the new arch and keeps the old one; the crossing is announced once', async () => {
    const subscriber = await subscribe();
    try {
      await inWorker(async () => {
        const taskQueue = config.temporal.task_queue;
        const firstResult = await runPublish(env, taskQueue, { location: first.root, composeId: first.composeId });
        expect(firstResult.repositories.map((r) => r.decision)).toEqual(['pass', 'pass']);
        const firstIndex = await index('fedora-minimal');

        const results = [];
        for (const compose of blocked)
          results.push(await runPublish(env, taskQueue, { location: compose.root, composeId: compose.composeId }));
        for (const result of results) {
          const fedora = result.repositories.find((r) => r.repository === 'fedora')!;
          expect(fedora).toMatchObject({ decision: 'blocked', waitEnded: true, manifests: [], missing: ['arm64'] });
          // The policy decided for fedora-minimal: recorded like an operator's override, the rule as its reason.
          const minimal = result.repositories.find((r) => r.repository === 'fedora-minimal')!;
          expect(minimal).toMatchObject({
            decision: 'overridden',
            override: {
              mode: 'hybrid',
              operator: POLICY_OPERATOR,
              reason: expect.stringContaining('when_wait_ends') as unknown,
            },
          });
          expect(minimal.waitEnded).toBeUndefined();
        }
        const fedoraIndex = await index('fedora');
        expect(Object.values(fedoraIndex).map((i) => i.composeId)).toEqual([FIRST, FIRST]);
        const minimalIndex = await index('fedora-minimal');
        expect(minimalIndex.amd64!.composeId).toBe(BLOCKED[2]);
        expect(minimalIndex.arm64).toEqual(firstIndex.arm64);

        const workflowId = `staleness-report:${taskQueue}:test-1`;
        const report: StalenessReport = await env.client.workflow.execute(reportStaleness, {
          taskQueue,
          workflowId,
          args: [],
        });
        await recordHistory(env.client.workflow.getHandle(workflowId), 'report-staleness');
        const row = (repository: string, arch: string) =>
          report.rows.find((r) => r.repository === repository && r.arch === arch && r.tag === '37');
        expect(row('fedora', 'arm64')).toMatchObject({
          servedComposeId: FIRST,
          newestComposeId: BLOCKED[2],
          composesBehind: 3,
          lagDays: 3,
          stale: true,
          overThreshold: true,
          archTagMovedOn: false,
        });
        expect(row('fedora', 'amd64')).toMatchObject({
          servedComposeId: FIRST,
          composesBehind: 3,
          stale: true,
          archTagMovedOn: true,
        });
        expect(row('fedora-minimal', 'arm64')).toMatchObject({
          servedComposeId: FIRST,
          newestComposeId: BLOCKED[2],
          composesBehind: 3,
          stale: true,
        });
        expect(row('fedora-minimal', 'amd64')).toMatchObject({
          servedComposeId: BLOCKED[2],
          composesBehind: 0,
          stale: false,
        });
        expect(report.rows.slice(0, 3).every((r) => r.stale)).toBe(true);
        expect(report.staleRepositories).toEqual(['fedora', 'fedora-minimal']);
        expect(report.newCrossings).toHaveLength(3);

        const described = await env.client.workflow.getHandle(workflowId).describe();
        expect(
          described.typedSearchAttributes.get({ name: STALE_REPOSITORIES.name, type: 'KEYWORD_LIST' } as never),
        ).toEqual(['fedora', 'fedora-minimal']);
        expect((described.memo?.report as { stale: unknown[] }).stale).toHaveLength(3);

        await expect.poll(() => subscriber.received.length).toBe(3);
        expect(
          subscriber.received.map((m) => `${String(m.body.repository)}/${String(m.body.architecture)}`).sort(),
        ).toEqual(['fedora-minimal/arm64', 'fedora/amd64', 'fedora/arm64']);
        expect(subscriber.received[0]).toMatchObject({
          headers: { fedora_messaging_schema: 'compose_publisher.container.stale', fedora_messaging_severity: 30 },
          body: { composes_behind: 3, lag_days: 3, served_compose_id: FIRST, newest_compose_id: BLOCKED[2] },
        });

        // The next report finds the same crossings: nothing new to announce.
        const again: StalenessReport = await env.client.workflow.execute(reportStaleness, {
          taskQueue,
          workflowId: `staleness-report:${taskQueue}:test-2`,
          args: [],
        });
        expect(again.newCrossings).toEqual([]);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        expect(subscriber.received).toHaveLength(3);

        // The CLI runs the same report on the worker and prints the fix for each stale row.
        const printed = await cli(['report'], configFile);
        expect(printed.exitCode).toBe(0);
        expect(printed.stdout).toContain('3 stale');
        expect(printed.stdout).toMatch(
          /fedora\s+37\s+arm64\s+\S+\s+Fedora-37-20250701\.n\.0\s+Fedora-37-20250704\.n\.0\s+3 composes, 3 d \(over warn_after\)\s+no/,
        );
        expect(printed.stdout).toContain('fedora: publish a compose that builds arm64');
      });
    } finally {
      await subscriber.close();
    }
  }, 240_000);

  it("refuses any input: the report is on the worker's own registries", async () => {
    await inWorker(async () => {
      const failure = await env.client.workflow
        .execute(reportStaleness, {
          taskQueue: config.temporal.task_queue,
          workflowId: `staleness-report:${config.temporal.task_queue}:input`,
          args: [{ registries: ['evil.example'] }] as never,
        })
        .catch((error: unknown) => error);
      expect(String((failure as Error & { cause?: Error }).cause?.message)).toContain('reportStaleness takes no input');
    });
  });

  it('`schedule` creates the Schedule once and updates it when run again', async () => {
    const created = await cli(['schedule'], configFile);
    expect(created.stdout).toContain(
      `created Schedule staleness-report:${config.temporal.task_queue}: reportStaleness every 30m`,
    );
    const updated = await cli(['schedule'], configFile);
    expect(updated.exitCode).toBe(0);
    expect(updated.stdout).toContain(`updated Schedule staleness-report:${config.temporal.task_queue}`);
    const schedule = await env.client.schedule.getHandle(`staleness-report:${config.temporal.task_queue}`).describe();
    expect(schedule.spec.intervals).toMatchObject([{ every: 30 * 60_000 }]);
    expect(schedule.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'reportStaleness',
      taskQueue: config.temporal.task_queue,
    });
    let count = 0;
    for await (const summary of env.client.schedule.list())
      if (summary.scheduleId === `staleness-report:${config.temporal.task_queue}`) count++;
    expect(count).toBe(1);
    await env.client.schedule.getHandle(`staleness-report:${config.temporal.task_queue}`).delete();
  });
});
