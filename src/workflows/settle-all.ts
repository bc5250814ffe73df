/**
 * Like Promise.all, but waits for every promise to settle before throwing the first failure: no work started
 * here is still running (and writing) once the caller moves on, releases a lock or cleans up.
 */
export async function settleAll<T>(promises: ReadonlyArray<Promise<T>>): Promise<T[]> {
  const outcomes = await Promise.allSettled(promises);
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  if (failure) throw failure.reason;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}
