import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DomainError, malformedMetadata } from '../../src/domain/errors.js';
import { FAILURE_TYPES, NON_RETRYABLE_FAILURE_TYPES, type FailureType } from '../../src/domain/failure-types.js';
import { appendJsonPath, formatJsonPath } from '../../src/domain/json-path.js';

describe('DomainError', () => {
  it('is an Error with a readonly type used as the failure type name', () => {
    const error = new DomainError('DuplicateImage', 'two images');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('DomainError');
    expect(error.type).toBe('DuplicateImage');
    expect(error.message).toBe('two images');
  });

  it('takes its type from the one failure table, which says what a retry can fix', () => {
    expect(new DomainError('ImageNotFound', 'x').type).toBe('ImageNotFound');
    expect(NON_RETRYABLE_FAILURE_TYPES).toContain('MalformedComposeMetadata');
    expect(NON_RETRYABLE_FAILURE_TYPES).not.toContain('TransientRegistryError');
    expect(
      (Object.keys(FAILURE_TYPES) as FailureType[]).filter((type) => FAILURE_TYPES[type] === 'retry').sort(),
    ).toEqual([
      'ComposeHostBusy',
      'PublishedIndexMismatch',
      'SigningKeyUnusable',
      'ToolFailed',
      'TransientRegistryError',
      'WorkerStorageError',
      'WorkerStorageFull',
      'WorkerToolMissing',
    ]);
  });

  it('formats metadata errors as file, field, problem and fix', () => {
    const error = malformedMetadata('metadata/images.json', 'payload.images', 'is missing', 'regenerate it');
    expect(error.type).toBe('MalformedComposeMetadata');
    expect(error.message).toBe('metadata/images.json: payload.images is missing. Fix: regenerate it');
  });
});

describe('formatJsonPath', () => {
  it.each([
    [
      ['payload', 'images', 'Container', 'x86_64', 0, 'checksums', 'sha256'],
      'payload.images.Container.x86_64[0].checksums.sha256',
    ],
    [['payload', 'images', 'Server-optional', 'x86_64', 2], 'payload.images["Server-optional"].x86_64[2]'],
    [[0, 'a'], '[0].a'],
    [[], '(the top level)'],
  ] as const)('formats %j as %s', (segments, expected) => {
    expect(formatJsonPath(segments)).toBe(expected);
  });

  it('appends fields to a formatted path', () => {
    expect(appendJsonPath('payload.images.Container.x86_64[0]', 'location', 'url')).toBe(
      'payload.images.Container.x86_64[0].location.url',
    );
    expect(appendJsonPath('payload', 3)).toBe('payload[3]');
  });
});

describe('the failure types a run can end with', () => {
  it('are all in the one table: every type the workflows name is checked against it (satisfies FailureType)', () => {
    const dir = 'src/workflows';
    for (const file of readdirSync(dir).filter((name) => name.endsWith('.ts'))) {
      const source = readFileSync(`${dir}/${file}`, 'utf8');
      const named = [...source.matchAll(/'([A-Z][A-Za-z]+)' satisfies FailureType/g)].map((match) => match[1]!);
      for (const type of named) expect(Object.keys(FAILURE_TYPES), `${file}: ${type}`).toContain(type);
      // A type named any other way (a bare literal after nonRetryable's message, or as `type:`) escapes the check.
      const bare = [
        ...source.matchAll(/(?:nonRetryable\([^;]*?,\s*|type:\s*[^'\n]*?)'([A-Z][A-Za-z]+)'(?! satisfies)/g),
      ].map((match) => match[1]!);
      expect(bare, file).toEqual([]);
    }
  });
});
