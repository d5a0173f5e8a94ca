/**
 * A bounded worker pool (private): run an async function over items with at
 * most a given number in flight.
 *
 * @module
 */

/** Run `fn` over `items` with at most `limit` calls in flight; rejects with the first error. */
export async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  if (!(Number.isSafeInteger(limit) && limit > 0)) {
    throw new RangeError(`limit must be > 0, got ${limit}`);
  }
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(workers);
}
