import type { z } from 'zod';
import { malformedMetadata } from './errors.js';
import { formatJsonPath } from './json-path.js';

/**
 * Validates `value` against `schema`; on failure throws a MalformedComposeMetadata DomainError naming
 * the file and the JSON path of the first problem (basePath is the path of `value` inside the file).
 */
export function checkShape<S extends z.ZodType>(
  schema: S,
  value: unknown,
  file: string,
  basePath: readonly PropertyKey[] = [],
): z.output<S> {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  const [first, ...others] = result.error.issues;
  if (!first) throw malformedMetadata(file, formatJsonPath(basePath), 'is not valid');
  const more = others.length > 0 ? ` (and ${others.length} more problem${others.length > 1 ? 's' : ''})` : '';
  throw malformedMetadata(file, formatJsonPath([...basePath, ...first.path]), describeIssue(first) + more);
}

function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined)
        return issue.expected === 'nonoptional'
          ? 'is missing'
          : `is missing (expected ${expectedType(issue.expected)})`;
      return `is ${describeValue(issue.input)}, expected ${expectedType(issue.expected)}`;
    case 'too_small':
      return issue.origin === 'string'
        ? 'is empty'
        : `is ${describeValue(issue.input)}, must be at least ${String(issue.minimum)}`;
    case 'invalid_format':
    case 'custom':
      return `is ${describeValue(issue.input)}: ${issue.message}`;
    default:
      return `is not valid: ${issue.message}`;
  }
}

const TYPE_NAMES: Record<string, string> = { int: 'an integer', record: 'an object', nonoptional: 'a value' };

function expectedType(expected: string): string {
  return TYPE_NAMES[expected] ?? article(expected);
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return value.length > 80 ? `${JSON.stringify(value.slice(0, 77))}…` : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `${article(typeof value)}`;
}
