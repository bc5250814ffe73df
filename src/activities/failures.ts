import { ApplicationFailure } from '@temporalio/common';
import { DomainError, RetryLaterError } from '../domain/errors.js';
import { isRetryable, type FailureType } from '../domain/failure-types.js';
import { ToolError, type ToolErrorKind } from '../tools/tool-error.js';
import { workerFaultOf } from '../tools/worker-fault.js';
import { describeWorkerFault } from '../domain/worker-storage.js';

const TOOL_FAILURE_TYPES: Record<ToolErrorKind, FailureType> = {
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
  if (error instanceof ApplicationFailure) {
    if (error.message.length <= MAX_MESSAGE_LENGTH) return error;
    return ApplicationFailure.create({
      message: bounded(error.message),
      type: error.type ?? 'Error',
      nonRetryable: error.nonRetryable ?? false,
    });
  }
  if (error instanceof DomainError) {
    return ApplicationFailure.create({
      message: bounded(error.message),
      type: error.type,
      nonRetryable: !isRetryable(error.type),
      ...(error instanceof RetryLaterError ? { nextRetryDelay: Math.max(error.delayMs, 100) } : {}),
    });
  }
  // A full disk or a refused write that no withWorkDirFaults() caught: still the worker's, never the compose's.
  const fault = workerFaultOf(error);
  if (fault) {
    return ApplicationFailure.create({
      message: bounded(
        `${context}: ${describeWorkerFault(fault.fault)} on the worker's host: ${fault.detail}. This is the worker's fault, not the compose's: retried. Fix: see "The worker's own faults" in docs/operators.md`,
      ),
      type: fault.fault.type,
      nonRetryable: false,
    });
  }
  if (error instanceof ToolError) {
    return ApplicationFailure.create({
      message: bounded(`${context}: ${error.message}`),
      type: TOOL_FAILURE_TYPES[error.kind],
      nonRetryable: !error.retryable,
    });
  }
  if (error instanceof Error)
    return error.message.length <= MAX_MESSAGE_LENGTH ? error : new Error(bounded(error.message));
  return new Error(bounded(String(error)));
}

/** Failures go into history, status and logs: a message that names the file, the field and the fix fits in this. */
const MAX_MESSAGE_LENGTH = 2000;

function bounded(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH
    ? message
    : `${message.slice(0, MAX_MESSAGE_LENGTH)}… (${message.length - MAX_MESSAGE_LENGTH} more characters cut)`;
}

/** Runs an activity body and translates its failures. */
export async function translatingFailures<T>(context: string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    throw toFailure(error, context);
  }
}
