/**
 * What runs' `data_fingerprint`s say of their data, for `compare`, the
 * report and the UI alike.
 *
 * @module
 */

/** What runs' data fingerprints say: the same data, different data, or unknown for some run. */
export type DataComparison = "same" | "different" | "unknown";

/**
 * What runs with these `data_fingerprint`s say of their data: `unknown`
 * when some run has none or a blank one (a probe: `emit --data-fingerprint
 * ''` was taken, and two such runs compared as the same data, though
 * nothing is known of their data; a review: the report then called them
 * different), else `same` when all are equal, else `different`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dataComparison } from "./fingerprint.ts";
 * assert.equal(dataComparison(["fp1", "fp1"]), "same");
 * assert.equal(dataComparison(["fp1", "fp2"]), "different");
 * assert.equal(dataComparison(["fp1", null]), "unknown");
 * assert.equal(dataComparison(["", ""]), "unknown");
 * assert.equal(dataComparison(["fp1", "\u00a0"]), "unknown"); // a no-break space is blank too
 * ```
 */
export function dataComparison(fingerprints: readonly unknown[]): DataComparison {
  if (!fingerprints.every((f) => typeof f === "string" && f.trim() !== "")) return "unknown";
  return new Set(fingerprints).size === 1 ? "same" : "different";
}

/**
 * Whether runs with these `data_fingerprint`s ran on the same data
 * (`compare`'s `same_data`): {@linkcode dataComparison} says `same`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sameData } from "./fingerprint.ts";
 * assert.equal(sameData(["fp1", "fp1"]), true);
 * assert.equal(sameData(["", ""]), false);
 * ```
 */
export function sameData(fingerprints: readonly unknown[]): boolean {
  return dataComparison(fingerprints) === "same";
}
