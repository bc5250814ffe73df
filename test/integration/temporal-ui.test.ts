import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startPublishRun, waitForRun } from '../../src/client/publish-runs.js';
import { parseConfig, publishSettings, type Config } from '../../src/config.js';
import { freePort } from '../../src/dev/free-port.js';
import { startTemporalDevServer, type DevServer } from '../../src/dev/temporal-dev-server.js';
import { inspectRemote } from '../../src/tools/skopeo.js';
import { createPublisherWorker } from '../../src/worker.js';
import { makeCompose, serveCompose, type MadeCompose } from '../support/compose-factory.js';
import { workflowBundle } from '../support/publisher.js';
import { launchBrowser, screenshot, TemporalUi } from '../support/temporal-ui.js';
import { scratchSubdir } from '../support/temporal.js';

const FULL = 'Fedora-40-20261126.n.0';
const PARTIAL = 'Fedora-40-20261127.n.0';
const BLOCKED_QUERY = '`GateDecision` = "blocked"';

/**
 * An operator in the Temporal UI (the embedded dev server's, driven in Debian's chromium): finds the blocked run with
 * the search attribute, reads what is blocked and how to override it, sees a bad signal rejected, and overrides
 * with an Update; the registry's index changes.
 */
describe('operators in the Temporal UI', () => {
  let dir: string;
  let temporal: DevServer;
  let client: Client;
  let nativeConnection: NativeConnection;
  let worker: Worker;
  let running: Promise<void>;
  let config: Config;
  let browser: Browser;
  let page: Page;
  let ui: TemporalUi;

  beforeAll(async () => {
    dir = scratchSubdir('temporal-ui');
    temporal = await startTemporalDevServer({ dataDir: join(dir, 'temporal'), uiPort: await freePort() });
    config = parseConfig(
      `
[temporal]
address = "${temporal.address}"
task_queue = "ui-test"

[[registries]]
url = "${inject('registryHost')}/ui-test"
tls_verify = false

[repositories]
Container_Base = "fedora"

[architectures]
x86_64 = "amd64"
aarch64 = "arm64"

[releases]
latest = "40"

[gate]
wait_for_override = "10m"
`,
      'temporal-ui test config',
    );
    client = new Client({ connection: await Connection.connect({ address: temporal.address }) });
    nativeConnection = await NativeConnection.connect({ address: temporal.address });
    worker = await createPublisherWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue: config.temporal.task_queue,
      workDir: join(dir, 'worker'),
      settings: publishSettings(config),
      workflowBundle: await workflowBundle(),
    });
    running = worker.run();
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(15_000);
    ui = new TemporalUi(page, temporal.uiUrl!);
  });

  let composeHost: { url: string; close(): Promise<void> } | undefined;

  afterAll(async () => {
    await composeHost?.close();
    await browser?.close();
    if (worker?.getState() === 'RUNNING') worker.shutdown();
    await running?.catch(() => undefined);
    await client?.connection.close();
    await nativeConnection?.close();
    await temporal?.stop();
  });

  const compose = (composeId: string, arches: string[]): Promise<MadeCompose> =>
    makeCompose(
      { composeId, images: { Container_Base: arches }, format: '1.2' },
      { dir, storage: { root: join(dir, 'storage'), runroot: join(dir, 'runroot') } },
    );

  async function publishedIndex() {
    const index = await inspectRemote(`${config.registries[0]!.url}/fedora:40`, { tlsVerify: false });
    if (index.kind !== 'index') throw new Error(`expected an index at fedora:40, found ${index.kind}`);
    return index;
  }

  it('lists the blocked run, shows its decision and the override, rejects a bad signal where the operator looks, and overrides by Update', async () => {
    const full = await compose(FULL, ['x86_64', 'aarch64']);
    const first = await startPublishRun(client, config, full.root);
    expect((await waitForRun(first.handle, FULL)).phase).toBe('done');
    const before = await publishedIndex();

    // Served over HTTP, as Fedora's composes are: the screenshots show a URL, not a path of this machine.
    const partial = await compose(PARTIAL, ['x86_64']);
    composeHost = await serveCompose(partial.root);
    const run = await startPublishRun(client, config, composeHost.url);
    expect((await waitForRun(run.handle, PARTIAL)).phase).toBe('awaiting-override');

    // The list, filtered as docs/operators.md says: the blocked run, not the one that passed.
    await ui.listWorkflows(BLOCKED_QUERY);
    await expect
      .poll(() => page.getByRole('link', { name: `publish:${PARTIAL}` }).count(), { timeout: 15_000 })
      .toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: `publish:${FULL}` }).count()).toBe(0);
    await page
      .getByRole('link', { name: `publish:${PARTIAL}` })
      .first()
      .click();
    await page.getByRole('tab', { name: 'User Metadata' }).click();

    await expect.poll(() => ui.metadata('summary').innerText()).toContain(`Fedora-40: publish ${PARTIAL} → fedora`);
    const current = ui.metadata('current-details');
    await expect.poll(() => current.innerText()).toContain('fedora:40 blocked: arm64 missing from this compose');
    const details = await current.innerText();
    expect(details).toContain(`compose-publisher override ${PARTIAL} --repository fedora --mode hybrid --reason '…'`);
    expect(details).toContain('fedora · blocked · built amd64 · published before amd64 arm64 · missing arm64');
    await screenshot(page, 'ui-blocked-run-details.png');

    // A signal with a misspelt repository: the UI sends it without a word, the run shows why it refused it.
    await ui.send('Signal', 'override', {
      repository: 'fedorra',
      mode: 'hybrid',
      reason: 'aarch64 build failed: releng#1234',
      operator: 'alice',
    });
    await expect
      .poll(
        async () => {
          await ui.openUserMetadata(run.workflowId);
          return ui.metadata('current-details').innerText();
        },
        { timeout: 20_000, interval: 1_000 },
      )
      .toContain('Rejected override signals (1)');
    // (The UI's markdown renderer curls quotes.)
    expect(await ui.metadata('current-details').innerText()).toMatch(
      /override rejected: repository .fedorra. is not part of this run/,
    );
    const memo = (await run.handle.describe()).memo as { rejectedOverrides?: Array<{ reason: string }> };
    expect(memo.rejectedOverrides?.map((rejected) => rejected.reason)).toEqual([
      expect.stringContaining('"fedorra" is not part of this run') as string,
    ]);
    await screenshot(page, 'ui-signal-rejected.png');

    // The Update answers in the dialog: an operator left out, then the same request with one.
    await ui.send('Update', 'override', {
      repository: 'fedora',
      mode: 'hybrid',
      reason: 'aarch64 build failed: releng#1234',
    });
    await expect.poll(() => ui.dialog().innerText()).toContain('operator is empty');
    // The rejection says what to fix, without the workflow code's stack (no paths of the worker's machine).
    expect(await ui.dialog().innerText()).not.toMatch(/ at |\/src\//);
    await screenshot(page, 'ui-update-rejected.png');
    await ui.fill({
      repository: 'fedora',
      mode: 'hybrid',
      reason: 'aarch64 build failed: releng#1234',
      operator: 'alice',
    });
    await ui.submit();
    await expect.poll(() => ui.dialog().count()).toBe(0);

    const result = await run.handle.result();
    expect(result.repositories[0]).toMatchObject({
      repository: 'fedora',
      decision: 'overridden',
      override: { mode: 'hybrid', operator: 'alice' },
    });
    const after = await publishedIndex();
    expect(after.digest).not.toBe(before.digest);
    const byArch = Object.fromEntries(after.instances.map((instance) => [instance.architecture, instance]));
    expect(byArch.arm64?.digest).toBe(before.instances.find((instance) => instance.architecture === 'arm64')?.digest);
    expect(byArch.amd64?.annotations['org.fedoraproject.compose.id']).toBe(PARTIAL);

    await ui.openUserMetadata(run.workflowId);
    await expect
      .poll(() =>
        page
          .getByText(/^completed$/i)
          .first()
          .isVisible(),
      )
      .toBe(true);
    await expect
      .poll(() => ui.metadata('current-details').innerText())
      .toContain('hybrid by alice: aarch64 build failed: releng#1234');
    expect(await ui.metadata('current-details').innerText()).toContain('fedora · overridden');
    await screenshot(page, 'ui-after-override.png');

    // Reset re-delivers the run's signals (an old override among them) unless told not to: docs/operators.md says so.
    await page.getByRole('button', { name: 'Reset', exact: true }).click();
    await expect.poll(() => ui.dialog().innerText()).toContain('Exclude Signals');
    await screenshot(page, 'ui-reset.png');
    await ui.dialog().getByTestId('cancel-modal-button').click();
  });
});
