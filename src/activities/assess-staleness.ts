import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { durationMs } from '../domain/duration.js';
import {
  computeStaleness,
  crossingKey,
  newCrossings,
  staleRepositories,
  type RunOutcome,
  type StalenessReport,
  type StalenessRow,
} from '../domain/staleness.js';
import type { ReleaseSettings } from '../domain/tags.js';
import type { OciArch, PublishedTag } from '../domain/types.js';
import {
  COMPOSE_ID,
  decisionsOfMemo,
  keywordOf,
  overThresholdOfMemo,
  PUBLISH_WORKFLOW_TYPE,
  RELEASE,
  REPORT_WORKFLOW_TYPE,
  runsOfType,
} from '../domain/run-contract/index.js';
import type { ActivityEnvironment } from './environment.js';
import { translatingFailures } from './failures.js';
import { makeInspectPublished } from './inspect-published.js';

/** The default of [staleness] warn_after. */
export const DEFAULT_WARN_AFTER = '3d';

/**
 * Reads, for this worker's registries and repositories, every index tag and arch tag of every release this task
 * queue has published, and the decisions of its publish runs (Temporal visibility), and assesses how far each
 * arch of each index lags. Sets a gauge per repository, tag, arch and registry.
 */
export function makeAssessStaleness(environment: ActivityEnvironment) {
  const inspect = makeInspectPublished(environment);
  return function assessStaleness(): Promise<StalenessReport> {
    return translatingFailures('assessing how stale the published arches are', async () => {
      const context = Context.current();
      const client = context.client;
      const taskQueue = context.info.taskQueue;
      const settings = environment.settings;
      const warnAfter = settings.stalenessWarnAfter ?? DEFAULT_WARN_AFTER;
      const runs = await listPublishRuns(client, taskQueue);
      const releases = [...new Set(runs.flatMap((run) => (run.release ? [run.release] : [])))].sort();
      const repositories = [...new Set(Object.values(settings.repositories))].sort();
      const published: PublishedTag[] = [];
      for (const release of releases) {
        published.push(
          ...(await inspect({
            registries: settings.registries,
            repositories,
            tags: indexTags(release, settings.releases),
            digestOnlyTags: Object.keys(settings.architectures).map((composeArch) => `${release}-${composeArch}`),
          })),
        );
      }
      const archOf = (tag: string) => {
        const composeArch = Object.keys(settings.architectures).find((arch) =>
          releases.some((release) => tag === `${release}-${arch}`),
        );
        return composeArch ? (settings.architectures[composeArch] as OciArch) : undefined;
      };
      const indexes = published.filter((manifest) => manifest.instances.length > 0);
      const archTags = published.flatMap((manifest) => {
        const arch = manifest.instances.length === 0 ? archOf(manifest.tag) : undefined;
        return arch && manifest.digest
          ? [{ registry: manifest.registry, repository: manifest.repository, arch, digest: manifest.digest }]
          : [];
      });
      const rows = computeStaleness({
        indexes: indexes.map((index) => ({
          registry: index.registry,
          repository: index.repository,
          tag: index.tag,
          instances: index.instances.map((instance) => ({
            arch: instance.ociArch,
            digest: instance.digest,
            ...(instance.composeId ? { composeId: instance.composeId } : {}),
          })),
        })),
        archTags,
        runs: runs.flatMap((run) => run.outcomes),
        warnAfterMs: durationMs(warnAfter),
      });
      setGauges(context, rows);
      const previous = await previousOverThreshold(client, taskQueue, context.info.workflowExecution?.workflowId ?? '');
      return {
        at: new Date().toISOString(),
        warnAfter,
        rows,
        staleRepositories: staleRepositories(rows),
        overThreshold: rows.filter((row) => row.overThreshold).map(crossingKey),
        newCrossings: newCrossings(rows, previous),
        waiting: runs
          .filter((run) => run.waitingRepositories.length > 0)
          .map((run) => ({
            workflowId: run.workflowId,
            composeId: run.composeId,
            repositories: run.waitingRepositories,
          })),
      };
    });
  };
}

/** The tags an index of `release` is published under. */
function indexTags(release: string, releases: ReleaseSettings): string[] {
  return [
    release,
    ...(release === releases.latest ? ['latest'] : []),
    ...(release === releases.rawhide ? ['rawhide'] : []),
  ];
}

interface PublishRun {
  workflowId: string;
  composeId: string;
  release?: string;
  outcomes: RunOutcome[];
  waitingRepositories: string[];
}

/** Every publish run of this task queue, with what its memo says it decided per repository. */
async function listPublishRuns(client: Client, taskQueue: string): Promise<PublishRun[]> {
  const runs: PublishRun[] = [];
  for await (const execution of client.workflow.list({
    query: runsOfType(PUBLISH_WORKFLOW_TYPE, taskQueue),
  })) {
    Context.current().heartbeat();
    const composeId = keywordOf(execution.searchAttributes, COMPOSE_ID);
    if (!composeId) continue;
    const outcomes = decisionsOfMemo(execution.memo).map(({ repository, decision, built }): RunOutcome => ({
      composeId,
      repository,
      decision,
      built,
    }));
    const running = execution.status.name === 'RUNNING';
    const release = keywordOf(execution.searchAttributes, RELEASE);
    runs.push({
      workflowId: execution.workflowId,
      composeId,
      ...(release ? { release } : {}),
      outcomes,
      waitingRepositories: running
        ? outcomes.filter((outcome) => outcome.decision === 'blocked').map((outcome) => outcome.repository)
        : [],
    });
  }
  return runs;
}

/** The crossings the newest earlier report of this task queue found over warn_after (from its memo). */
async function previousOverThreshold(client: Client, taskQueue: string, self: string): Promise<string[]> {
  let newest: { closed: number; keys: string[] } | undefined;
  for await (const execution of client.workflow.list({
    query: `${runsOfType(REPORT_WORKFLOW_TYPE, taskQueue)} AND ExecutionStatus = 'Completed'`,
  })) {
    if (execution.workflowId === self) continue;
    const closed = execution.closeTime?.getTime() ?? 0;
    const keys = overThresholdOfMemo(execution.memo);
    if (keys && (!newest || closed > newest.closed)) newest = { closed, keys };
  }
  return newest?.keys ?? [];
}

function setGauges(context: Context, rows: StalenessRow[]): void {
  const lag = context.metricMeter.createGauge(
    'compose_publisher_arch_lag_days',
    'int',
    'd',
    'Days the image an index serves for an arch lags the newest compose of its release',
  );
  const behind = context.metricMeter.createGauge(
    'compose_publisher_arch_composes_behind',
    'int',
    'composes',
    'Composes the image an index serves for an arch lags behind',
  );
  for (const row of rows) {
    const tags = { repository: row.repository, tag: row.tag, arch: row.arch, registry: row.registry };
    lag.set(row.lagDays, tags);
    behind.set(row.composesBehind, tags);
  }
}
