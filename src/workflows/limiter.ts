import { condition, patched } from '@temporalio/workflow';

/**
 * Runs started before this let every waiter through at once when a slot freed: each waiting `condition` saw
 * `active < limit` in the same activation, before any of them counted itself. Since: each waiter checks again.
 */
const STRICT_LIMITER_PATCH = 'strict-limiter';

/** At most `limit` bodies at a time across every caller of the returned function (deterministic: a workflow condition). */
export function limiter(limit: number): <T>(body: () => Promise<T>) => Promise<T> {
  let active = 0;
  return async (body) => {
    await condition(() => active < limit);
    if (patched(STRICT_LIMITER_PATCH)) {
      while (active >= limit) await condition(() => active < limit);
    }
    active++;
    try {
      return await body();
    } finally {
      active--;
    }
  };
}
