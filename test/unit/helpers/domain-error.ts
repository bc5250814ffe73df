import { DomainError } from '../../../src/domain/errors.js';

/** Runs `run`, which must throw a DomainError, and returns it for assertions on type and message. */
export function domainErrorOf(run: () => unknown): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('expected a DomainError, but nothing was thrown');
}
