import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nearest } from '../../src/config-issues.js';
import { ConfigError, loadConfig, parseConfig } from '../../src/config.js';

const MINIMAL =
  '[[registries]]\nurl = "127.0.0.1:5000/fedora"\n[repositories]\nContainer_Base = "fedora"\n[architectures]\nx86_64 = "amd64"\n';

function problem(text: string): string {
  try {
    parseConfig(text, 'my.toml');
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe("config errors in a user's words", () => {
  it('suggests the nearest key for a misspelt one, and lists the valid ones', () => {
    const message = problem(`[temporal]\ntask_qeue = "x"\n${MINIMAL}`);
    expect(message).toContain('[temporal].task_qeue: unknown key; did you mean task_queue?');
    expect(message).toContain('valid here: address, namespace, task_queue');
    expect(message).toContain('config/fedora.toml');
  });

  it('suggests the nearest table for a misspelt one', () => {
    expect(problem(`${MINIMAL}[publsh]\nwork_dir = "w"\n`)).toContain(
      '[publsh]: unknown table; did you mean [publish]?',
    );
  });

  it('says nothing of a near key when none is near', () => {
    expect(problem(`[temporal]\ncolour = "blue"\n${MINIMAL}`)).toMatch(
      /\[temporal\]\.colour: unknown key \(valid here/,
    );
  });

  it('shows what to add for a missing table', () => {
    const message = problem('[[registries]]\nurl = "127.0.0.1:5000/fedora"\n[architectures]\nx86_64 = "amd64"\n');
    expect(message).toContain(
      '[repositories] is missing: add it, e.g.\n      [repositories]\n      Container_Base = "fedora"',
    );
    expect(message).not.toContain('expected record');
    expect(problem('[repositories]\nContainer_Base = "fedora"\n[architectures]\nx86_64 = "amd64"\n')).toContain(
      '[registries] is missing: add it, e.g.\n      [[registries]]\n      url = "quay.io/fedora"',
    );
  });

  it('names a missing key inside a table', () => {
    expect(
      problem(
        '[[registries]]\ntls_verify = false\n[repositories]\nContainer_Base = "fedora"\n[architectures]\nx86_64 = "amd64"\n',
      ),
    ).toContain('[registries][0].url is missing: add url = …');
  });

  it('names the path it tried when the file cannot be read', () => {
    expect(() => loadConfig('no-such-dir/compose-publisher.toml')).toThrow(
      `cannot read the config file ${join(process.cwd(), 'no-such-dir/compose-publisher.toml')}: no such file. Fix: pass --config`,
    );
  });

  it('takes only likely misspellings as near', () => {
    expect(nearest('task_qeue', ['address', 'task_queue'])).toBe('task_queue');
    expect(nearest('wokr_dir', ['work_dir', 'cache_max_size'])).toBe('work_dir');
    expect(nearest('colour', ['address', 'namespace'])).toBeUndefined();
  });
});
