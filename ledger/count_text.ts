/**
 * A count and its noun, as every message a person reads says one: `1 run`,
 * `2 runs`, `0 trials`. One rule for the CLI, `verify`, the indexer's
 * messages and the report (it was written out inline at each).
 *
 * @module
 */

/**
 * `n` and `noun`, the noun plural (an `s`) unless `n` is 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countOf } from "./count_text.ts";
 * assert.equal(countOf(1, "run"), "1 run");
 * assert.equal(countOf(3, "trial"), "3 trials");
 * assert.equal(countOf(0, "view"), "0 views");
 * ```
 */
export function countOf(n: number, noun: string): string {
  return `${n} ${n === 1 ? noun : `${noun}s`}`;
}

/**
 * The first of `count` names, `shown`, joined with commas, and how many
 * more there are: `a, b and 3 more` (`a, b` when they are all).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { shownAndMore } from "./count_text.ts";
 * assert.equal(shownAndMore(["a", "b"], 5), "a, b and 3 more");
 * assert.equal(shownAndMore(["a", "b"], 2), "a, b");
 * ```
 */
export function shownAndMore(shown: readonly string[], count: number): string {
  const more = count > shown.length ? ` and ${count - shown.length} more` : "";
  return `${shown.join(", ")}${more}`;
}
