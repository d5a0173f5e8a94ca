/**
 * Options renamed in 0.3.0 so that every limit is named noun-first with its
 * unit and `Max` (issue 18: `trialsMax`, `batchBytesMax`): the former name
 * keeps working until it is removed, and giving both is refused when they
 * disagree, since which one was meant cannot be known.
 *
 * @module
 */

/**
 * The value given as `name` or as its former name; undefined when neither
 * is given. Throws `RangeError` naming both when both are given and differ.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { renamedOption } from "./renamed_option.ts";
 * const limit = (o: { trialsMax?: number; maxTrials?: number }) =>
 *   renamedOption(o.trialsMax, o.maxTrials, "trialsMax", "maxTrials");
 * assert.equal(limit({ trialsMax: 50 }), 50);
 * assert.equal(limit({ maxTrials: 50 }), 50); // the name before 0.3.0
 * assert.equal(limit({}), undefined);
 * assert.throws(() => limit({ trialsMax: 50, maxTrials: 60 }), /trialsMax .* maxTrials/);
 * ```
 */
export function renamedOption<T>(
  value: T | undefined,
  formerValue: T | undefined,
  name: string,
  formerName: string,
): T | undefined {
  if (value !== undefined && formerValue !== undefined && value !== formerValue) {
    throw new RangeError(
      `${name} (${value}) and its former name ${formerName} (${formerValue}) disagree: give one`,
    );
  }
  return value ?? formerValue;
}
