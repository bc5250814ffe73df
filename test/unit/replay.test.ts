import { readdirSync, readFileSync } from 'node:fs';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { HISTORIES_DIR } from '../support/histories.js';
import { workflowBundle as bundle } from '../support/publisher.js';

const histories = readdirSync(HISTORIES_DIR)
  .filter((file) => file.endsWith('.json'))
  .sort();

describe('replay of recorded publishCompose histories', () => {
  let workflowBundle: { code: string };
  beforeAll(async () => {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    workflowBundle = await bundle();
  }, 60_000);

  it('has recorded histories to replay', () => {
    expect(histories.length).toBeGreaterThan(0);
  });

  it.each(histories)(
    'replays %s deterministically with the current workflow code',
    async (file) => {
      const history = JSON.parse(readFileSync(`${HISTORIES_DIR}${file}`, 'utf8')) as unknown;
      await expect(Worker.runReplayHistory({ workflowBundle }, history, file)).resolves.toBeUndefined();
    },
    60_000,
  );
});
