import { execaSync } from 'execa';
import { describe, expect, it } from 'vitest';
import { markdownCode, markdownText } from '../../src/domain/markdown.js';
import {
  overrideCommand,
  renderRunDetails,
  runStaticDetails,
  runSummary,
  type RunDetailsInput,
} from '../../src/domain/run-details.js';

const blocked: RunDetailsInput = {
  composeId: 'Fedora-40-20261103.n.0',
  release: '40',
  manifestTags: ['40', 'latest'],
  phase: 'awaiting-override',
  repositories: [
    {
      repository: 'fedora',
      decision: 'blocked',
      built: ['amd64'],
      published: ['amd64', 's390x'],
      missing: ['s390x'],
      awaitingOverrideUntil: '2026-11-06T10:00:00.000Z',
    },
    {
      repository: 'fedora-minimal',
      decision: 'pass',
      built: ['amd64', 's390x'],
      published: ['amd64', 's390x'],
      missing: [],
    },
  ],
  rejectedOverrides: [],
};

/** The cells of a GFM table row: split on pipes that are not escaped. */
function cells(row: string): string[] {
  return row
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim());
}

function tableRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('|'))
    .map(cells);
}

/** The repository lines of the current details: "- **name** · **decision** · built … · … · next step". */
function repositoryLines(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('- **'))
    .map((line) => line.slice(2).split(' · '));
}

describe('renderRunDetails', () => {
  it('says what is blocked, what is missing and the exact command to publish anyway', () => {
    const details = renderRunDetails(blocked);
    expect(details).toContain('**fedora:40 blocked**: s390x missing from this compose');
    expect(details).toContain(
      "`compose-publisher override Fedora-40-20261103.n.0 --repository fedora --mode hybrid --reason '…'`",
    );
    expect(details).toContain('**Send an Update** `override`');
    const rows = repositoryLines(details);
    expect(rows[0]).toEqual([
      '**fedora**',
      '**blocked**',
      'built amd64',
      'published before amd64 s390x',
      'missing s390x',
      'awaiting an override (see above)',
    ]);
    expect(rows[1]!.slice(0, 2)).toEqual(['**fedora-minimal**', '**pass**']);
  });

  it('the override command is shell-quoted: pasted, it passes each value as one word', () => {
    const command = overrideCommand('Fedora-40-20261103.n.0', "it's; rm -rf /");
    const words = execaSync('bash', [
      '-c',
      `set -- ${command.replace(/^compose-publisher /, '')}; printf '%s\\n' "$@"`,
    ]).stdout.split('\n');
    expect(words).toEqual([
      'override',
      'Fedora-40-20261103.n.0',
      '--repository',
      "it's; rm -rf /",
      '--mode',
      'hybrid',
      '--reason',
      '…',
    ]);
  });

  it('operator-supplied text cannot break the table or inject markup', () => {
    const hostile = 'a | b\n| c | d |\n<img src=x onerror=alert(1)> [link](http://x) `code`';
    const details = renderRunDetails({
      ...blocked,
      phase: 'publishing-manifests',
      repositories: [
        {
          ...blocked.repositories[0]!,
          decision: 'overridden',
          awaitingOverrideUntil: undefined,
          override: {
            repository: 'fedora',
            mode: 'hybrid',
            reason: hostile,
            operator: 'mallory|x',
            at: '2026-11-04T00:00:00.000Z',
          },
        },
      ],
      rejectedOverrides: [
        {
          request: `{"repository":"nope|x","reason":"${hostile}"}`,
          reason: `override rejected: repository "nope|x" is not part of this run`,
          at: '2026-11-04T00:00:00.000Z',
        },
      ],
    });
    const lines = repositoryLines(details);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toHaveLength(6);
    expect(details.split('\n').filter((line) => line.startsWith('- ') && !line.startsWith('- **'))).toHaveLength(1);
    expect(details).not.toMatch(/(?<!\\)<img/);
    expect(details).not.toMatch(/(?<!\\)\[link\]/);
    expect(details).toContain('**Rejected override signals** (1)');
  });

  it('a repository the compose has no image for says so, not a bare noop', () => {
    const details = renderRunDetails({
      ...blocked,
      phase: 'done',
      repositories: [
        { repository: 'fedora-toolbox', decision: 'noop', built: [], published: [], missing: [] },
        { repository: 'fedora', decision: 'noop', built: ['amd64'], published: ['amd64'], missing: [] },
      ],
    });
    expect(repositoryLines(details).map((row) => [row[0], row[5]])).toEqual([
      ['**fedora-toolbox**', 'no image in this compose'],
      ['**fedora**', '–'],
    ]);
  });

  it('warns when the worker read the compose without [compose] allowed_locations', () => {
    expect(renderRunDetails({ ...blocked, locationUnchecked: true })).toContain(
      '**Warning**: This worker has no \\[compose\\] allowed\\_locations',
    );
    expect(renderRunDetails(blocked)).not.toContain('allowed');
  });

  it('a failed run says why', () => {
    expect(renderRunDetails({ ...blocked, phase: 'failed', error: 'fedora: image x has a bad checksum' })).toContain(
      '**The run failed**: fedora: image x has a bad checksum',
    );
  });
});

describe("a run's static summary and details", () => {
  it('name the release, the compose and the repositories', () => {
    expect(runSummary('Fedora-40-20261103.n.0', ['fedora-minimal', 'fedora'])).toBe(
      'Fedora-40: publish Fedora-40-20261103.n.0 → fedora, fedora-minimal',
    );
    const details = runStaticDetails({
      composeId: 'Fedora-40-20261103.n.0',
      location: '/srv/a|b',
      registries: ['quay.io/fedora'],
      repositories: ['fedora'],
    });
    expect(details).toContain('`/srv/a\\|b`');
    expect(tableRows(details)[2]).toEqual(['fedora', 'quay.io/fedora']);
  });
});

describe('markdown escaping', () => {
  it('keeps text one line and escapes what markdown would act on', () => {
    expect(markdownText('a|b\nc*d')).toBe('a\\|b c\\*d');
  });
  it('fences code with more backticks than it holds', () => {
    expect(markdownCode('say `hi`')).toBe('`` say `hi` ``');
    expect(markdownCode('a|b')).toBe('`a\\|b`');
  });
});
