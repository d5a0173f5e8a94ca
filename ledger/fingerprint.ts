/**
 * What runs' `data_fingerprint`s say of their data, for `compare`, the
 * report and the UI alike.
 *
 * @module
 */

/**
 * Whether runs with these `data_fingerprint`s ran on the same data: every
 * run has one, all equal, and not blank (a probe: `emit --data-fingerprint
 * ''` was taken, and two such runs compared as the same data, though
 * nothing is known of their data).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sameData } from "./fingerprint.ts";
 * assert.equal(sameData(["fp1", "fp1"]), true);
 * assert.equal(sameData(["fp1", "fp2"]), false);
 * assert.equal(sameData(["fp1", null]), false);
 * assert.equal(sameData(["", ""]), false);
 * ```
 */
export function sameData(fingerprints: readonly unknown[]): boolean {
  const known = fingerprints.filter((f) => typeof f === "string" && f.trim() !== "");
  return known.length === fingerprints.length && new Set(known).size === 1;
}
