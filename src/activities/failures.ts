import { ApplicationFailure } from '@temporalio/common';
import { DomainError } from '../domain/errors.js';
import { ToolError, type ToolErrorKind } from '../tools/tool-error.js';

const TOOL_FAILURE_TYPES: Record<ToolErrorKind, string> = {
  'not-found': 'NotFound',
  unauthorized: 'RegistryUnauthorized',
  transient: 'TransientRegistryError',
  'invalid-input': 'InvalidInput',
  unknown: 'ToolFailed',
};

/**
 * Turns what an activity caught into what Temporal should do with it: errors a retry cannot fix become
 * non-retryable ApplicationFailures with a type name; the rest stay retryable.
 */
export function toFailure(error: unknown, context: string): Error {
  if (error instanceof ApplicationFailure) return error;
  if (error instanceof DomainError) return ApplicationFailure.nonRetryable(error.message, error.type);
  if (error instanceof ToolError) {
    return ApplicationFailure.create({
      message: `${context}: ${error.message}`,
      type: TOOL_FAILURE_TYPES[error.kind],
      nonRetryable: !error.retryable,
    });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/** Runs an activity body and translates its failures. */
export async function translatingFailures<T>(context: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toFailure(error, context);
  }
}
