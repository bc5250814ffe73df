import { condition } from '@temporalio/workflow';

/** At most `limit` bodies at a time across every caller of the returned function (deterministic: a workflow condition). */
export function limiter(limit: number): <T>(body: () => Promise<T>) => Promise<T> {
  let active = 0;
  return async (body) => {
    await condition(() => active < limit);
    active++;
    try {
      return await body();
    } finally {
      active--;
    }
  };
}
