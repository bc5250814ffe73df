// LEGACY, for replay only: how runs started before the patch `repository-lock` bounded their image preparation
// (limiter.ts replaced it). Delete with publication.ts (docs/operators.md, "Retiring old-history code").
/** Runs `body` for every item, at most `limit` at a time; stops starting new items after the first failure. */
export async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  body: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await body(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}
