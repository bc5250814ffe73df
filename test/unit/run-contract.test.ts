// The run's Temporal contract lives in src/domain/run-contract/: no other source file spells its names.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decisionsMemo,
  decisionsOfMemo,
  composeIdOfWorkflowId,
  overThresholdOfMemo,
  publishWorkflowId,
  PUBLISH_WORKFLOW_TYPE,
  REPORT_WORKFLOW_TYPE,
  SEARCH_ATTRIBUTE_KEYS,
  STALENESS_SCHEDULE_ID,
} from '../../src/domain/run-contract/index.js';
import { publishCompose, reportStaleness } from '../../src/workflows/index.js';

const CONTRACT_DIR = 'src/domain/run-contract/';

/** A contract string as code would spell it: quoted, or as a `memo.x` / `memo?.x` access. */
function spellings(): Array<{ name: string; pattern: RegExp }> {
  const escaped = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // A whole quoted name ('ComposeId', `Release`), or a string that starts with the id prefix ('publish:…').
  const quoted = (text: string) =>
    new RegExp(text.endsWith(':') ? `['"\`]${escaped(text)}` : `['"\`]${escaped(text)}['"\`]`);
  return [
    ...[PUBLISH_WORKFLOW_TYPE, REPORT_WORKFLOW_TYPE, STALENESS_SCHEDULE_ID, 'publish:'].map((name) => ({
      name,
      pattern: quoted(name),
    })),
    ...SEARCH_ATTRIBUTE_KEYS.map((key) => ({ name: key.name, pattern: quoted(key.name) })),
    { name: 'memo keys', pattern: /memo\??\.(gate|report)\b|upsertMemo\(\{\s*(gate|report)\b/ },
  ];
}

function sourceFiles(): string[] {
  return readdirSync('src', { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => `src/${file}`)
    .filter((file) => !file.startsWith(CONTRACT_DIR));
}

describe('the run contract', () => {
  it('names the workflow types the worker registers', () => {
    expect(publishCompose.name).toBe(PUBLISH_WORKFLOW_TYPE);
    expect(reportStaleness.name).toBe(REPORT_WORKFLOW_TYPE);
  });

  it('is spelled only in src/domain/run-contract/', () => {
    const found = sourceFiles().flatMap((file) => {
      const lines = readFileSync(file, 'utf8').split('\n');
      return lines.flatMap((line, index) =>
        spellings()
          .filter(({ pattern }) => pattern.test(line))
          .map(({ name }) => `${file}:${index + 1}: ${name}: ${line.trim()}`),
      );
    });
    expect(found).toEqual([]);
  });

  it('finds a spelling where one is written (the check can fail)', () => {
    const line = "  query: `WorkflowType = 'publishCompose' AND ComposeId = 'x'`, memo?.gate";
    expect(
      spellings()
        .filter(({ pattern }) => pattern.test(line))
        .map(({ name }) => name),
    ).toEqual(['publishCompose', 'memo keys']);
  });

  it('reads back the ids and memo records it writes, and nothing else', () => {
    expect(composeIdOfWorkflowId(publishWorkflowId('Fedora-43-20261201.0'))).toBe('Fedora-43-20261201.0');
    expect(composeIdOfWorkflowId('staleness-report:q')).toBeUndefined();
    const record = { repository: 'fedora', decision: 'pass' as const, built: ['amd64'], published: [], missing: [] };
    expect(decisionsOfMemo(decisionsMemo([record]))).toEqual([record]);
    expect(decisionsOfMemo({ gate: [{ repository: 1 }, 'x', null, { ...record, built: 'amd64' }] })).toEqual([
      { ...record, built: [] },
    ]);
    expect(decisionsOfMemo(undefined)).toEqual([]);
    expect(overThresholdOfMemo({ report: { overThreshold: ['a', 2] } })).toEqual(['a']);
    expect(overThresholdOfMemo({})).toBeUndefined();
  });
});
