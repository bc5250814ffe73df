import type { PublishStatus } from '../domain/run-contract/index.js';

/** Exit codes, as the README's "Using it" gives them. */
export const EXIT = { done: 0, failed: 1, usage: 2, blocked: 3 } as const;

export function exitCodeFor(status: PublishStatus): number {
  if (status.phase === 'failed') return EXIT.failed;
  if (status.repositories.some((repository) => repository.decision === 'blocked')) return EXIT.blocked;
  return EXIT.done;
}

/** An error whose message is for the user and which ends the CLI with a given exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}
