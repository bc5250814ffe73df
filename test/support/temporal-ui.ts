import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's chromium, installed by scripts/setup.sh. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless chromium (as root it needs --no-sandbox). */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `no chromium at ${CHROMIUM}: run scripts/setup.sh (installs Debian's chromium), or set CHROMIUM_PATH`,
    );
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
}

/** Where the test leaves its screenshots; with UPDATE_SCREENSHOTS=1 also docs/images (the ones docs/operators.md shows). */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dirs = [join('.data', 'ui-screenshots'), ...(process.env.UPDATE_SCREENSHOTS ? [join('docs', 'images')] : [])];
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    await page.screenshot({ path: join(dir, name) });
  }
}

/** The Temporal UI's pages for one namespace. */
export class TemporalUi {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
    readonly namespace = 'default',
  ) {}

  async listWorkflows(query: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/namespaces/${this.namespace}/workflows?query=${encodeURIComponent(query)}`);
  }

  /** Opens a run's User Metadata tab: its summary, static details and current details. */
  async openUserMetadata(workflowId: string): Promise<void> {
    await this.page.goto(`${this.baseUrl}/namespaces/${this.namespace}/workflows/${encodeURIComponent(workflowId)}`);
    await this.page.getByRole('tab', { name: 'User Metadata' }).click();
  }

  /** The rendered markdown of one user metadata field (the UI renders each in its own iframe). */
  metadata(field: 'summary' | 'details' | 'current-details') {
    return this.page.frameLocator(`#user-metadata-${field}`).locator('body');
  }

  /** "Send a Signal" or "Send an Update" from the run's More Actions menu, with a JSON payload typed as an operator would. */
  async send(kind: 'Signal' | 'Update', name: string, payload: unknown): Promise<void> {
    await this.page.getByRole('button', { name: 'More Actions' }).click();
    await this.page
      .getByRole('menu', { name: /Send a Signal/ })
      .getByText(kind === 'Signal' ? 'Send a Signal' : 'Send an Update')
      .click();
    const dialog = this.dialog();
    await dialog.locator('button[aria-haspopup]').first().click();
    await dialog.getByRole('option', { name, exact: true }).click();
    await this.fill(payload);
    if (process.env.DEBUG_UI) await screenshot(this.page, `debug-${kind}-before-submit.png`);
    await this.submit();
    if (process.env.DEBUG_UI) {
      await this.page.waitForTimeout(1500);
      await screenshot(this.page, `debug-${kind}-after-submit.png`);
    }
  }

  /** Replaces the payload in the open dialog's JSON editor (inserted, not typed: the editor would close brackets itself). */
  async fill(payload: unknown): Promise<void> {
    const editor = this.dialog().getByRole('textbox', { name: 'Data' });
    await editor.click();
    await this.page.keyboard.press('ControlOrMeta+a');
    await this.page.keyboard.press('Delete');
    await this.page.keyboard.insertText(JSON.stringify(payload));
    // The editor reformats its JSON when it loses focus, which moves the Submit button: blur it before clicking.
    await editor.blur();
  }

  /** Submits the open dialog. */
  async submit(): Promise<void> {
    await this.dialog().getByTestId('confirm-modal-button').click();
  }

  dialog() {
    return this.page.locator('dialog[open]');
  }
}
