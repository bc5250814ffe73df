import { execaSync } from 'execa';
import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/format-status.js';
import { shellQuote } from '../../src/cli/shell-quote.js';
import type { PublishStatus } from '../../src/domain/run-contract/index.js';

describe('formatStatus', () => {
  it('says why a configured repository got nothing from the compose, instead of a bare noop', () => {
    const status: PublishStatus = {
      composeId: 'Fedora-43-20251023.0',
      release: '43',
      manifestTags: ['43', 'latest'],
      phase: 'done',
      rejectedOverrides: [],
      repositories: [
        {
          repository: 'fedora',
          decision: 'noop',
          built: [],
          published: [],
          missing: [],
          pushed: [],
          manifests: [],
          skipped: [
            'Container_Base: 4 entries of type container skipped, not a container image type ([images] types: docker)',
          ],
        },
      ],
    };
    expect(formatStatus(status)).toContain(
      'not published from this compose:\n  fedora: Container_Base: 4 entries of type container skipped, not a container image type ([images] types: docker)',
    );
  });
});

describe('formatStatus of a noop', () => {
  const status = (built: string[]): PublishStatus => ({
    composeId: 'Fedora-43-20251023.0',
    manifestTags: ['43'],
    phase: 'done',
    rejectedOverrides: [],
    repositories: [
      {
        repository: 'fedora-toolbox',
        decision: 'noop',
        built,
        published: built,
        missing: [],
        pushed: [],
        manifests: [],
      },
    ],
  });

  it('says "no image in this compose" when the compose built nothing for the repository', () => {
    const text = formatStatus(status([]));
    expect(text).toMatch(/fedora-toolbox\s+noop\s+-\s+-\s+-\s+no image in this compose/);
    expect(text).not.toContain('already published as built');
  });

  it('warns when the worker read the compose without [compose] allowed_locations', () => {
    expect(formatStatus({ ...status([]), locationUnchecked: true }).split('\n')[1]).toMatch(
      /^warning: This worker has no \[compose\] allowed_locations/,
    );
    expect(formatStatus(status([]))).not.toContain('allowed_locations');
  });

  it('says "already published as built" when it built what the registries already serve', () => {
    expect(formatStatus(status(['amd64']))).toMatch(
      /fedora-toolbox\s+noop\s+amd64\s+amd64\s+-\s+already published as built; nothing to change/,
    );
  });
});

describe('formatStatus says what is true at that moment', () => {
  const status = (phase: PublishStatus['phase']): PublishStatus => ({
    composeId: 'Fedora-43-20251023.0',
    manifestTags: ['43'],
    phase,
    rejectedOverrides: [],
    repositories: [
      {
        repository: 'fedora',
        decision: 'pass',
        built: ['amd64'],
        published: [],
        missing: [],
        pushed: [],
        manifests: [],
      },
    ],
  });

  it.each([
    ['pushing-images', 'to be published; the run is still working'],
    ['failed', 'NOT published: the run failed (see error)'],
  ] as const)('a pass whose index is not written yet, in phase %s: %s', (phase, meaning) => {
    expect(formatStatus(status(phase))).toMatch(
      new RegExp(`fedora\\s+pass\\s+amd64\\s+-\\s+-\\s+${meaning.replace(/[()]/g, '\\$&')}`),
    );
  });
});

describe('shellQuote', () => {
  it('leaves safe words alone and quotes the rest so a shell runs nothing in them', () => {
    expect(shellQuote('Fedora-40-20240501.n.0')).toBe('Fedora-40-20240501.n.0');
    expect(shellQuote('x$(id)')).toBe("'x$(id)'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    for (const word of ['$(touch /tmp/pwned)', "a'b", '`id`', 'a b;c', 'a\nb'])
      expect(execaSync('sh', ['-c', `printf %s ${shellQuote(word)}`]).stdout).toBe(word);
  });
});
