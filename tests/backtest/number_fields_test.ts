/**
 * `number_fields.ts` names the policies' fractional fields by hand: every
 * number field of every policy type that takes a fraction is a measure
 * (DOUBLE in `trials.parquet` and `export`), and one its schema makes an
 * integer (`maxHoldMs`) is not. The policies below hold every field of
 * their types (`Required<...>`: a field added to a type and not here fails
 * `deno check`), so a new fractional field left out of the list fails here.
 *
 * @module
 */
import { ok, throws } from "node:assert/strict";
import {
  type FixedStopPolicy,
  type LadderLevel,
  type LadderPolicy,
  parsePolicy,
  type TimeStopPolicy,
  type TrailingStopPolicy,
} from "../../backtest/policies.ts";
import { PolicyError } from "../../backtest/errors.ts";
import { MEASURE_FIELD_NAMES } from "../../backtest/number_fields.ts";

const FIXED: Required<FixedStopPolicy> = { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 1 };
const TIME: Required<TimeStopPolicy> = { type: "time_stop", maxHoldMs: 60_000, takeProfitPct: 1 };
const TRAILING: Required<TrailingStopPolicy> = {
  type: "trailing_stop",
  activationPct: 0.5,
  trailPct: 0.2,
  hardStopPct: 0.3,
};
const LEVEL: Required<LadderLevel> = { multiple: 2, fraction: 0.5 };
const LADDER: Required<LadderPolicy> = { type: "ladder", levels: [LEVEL], stopPct: 0.2 };

Deno.test("number_fields: a policy's field taking a fraction is a measure, an integer one not", () => {
  const cases: (readonly [string, (v: number) => unknown])[] = [
    ...numberFields(FIXED).map((k) => [k, (v: number) => ({ ...FIXED, [k]: v })] as const),
    ...numberFields(TIME).map((k) => [k, (v: number) => ({ ...TIME, [k]: v })] as const),
    ...numberFields(TRAILING).map((k) => [k, (v: number) => ({ ...TRAILING, [k]: v })] as const),
    ...numberFields(LADDER).map((k) => [k, (v: number) => ({ ...LADDER, [k]: v })] as const),
    ...numberFields(LEVEL).map((k) =>
      [k, (v: number) => ({ ...LADDER, levels: [{ ...LEVEL, [k]: v }] })] as const
    ),
  ];
  ok(cases.length >= 10, "every policy's number fields");
  for (const [key, withValue] of cases) {
    parsePolicy(withValue(key === "multiple" ? 2 : key === "maxHoldMs" ? 60_000 : 0.5));
    // 1.25 is a fraction every fractional field's range takes (a multiple is >= 1; a unit
    // field's 0.25 is checked too).
    const fraction = key === "multiple" || key === "takeProfitPct" || key === "activationPct"
      ? 1.25
      : 0.25;
    let takesFraction = true;
    try {
      parsePolicy(withValue(fraction));
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      takesFraction = false;
    }
    ok(
      takesFraction === MEASURE_FIELD_NAMES.has(key),
      `${key}: takes ${fraction}: ${takesFraction}; a measure: ${MEASURE_FIELD_NAMES.has(key)}`,
    );
  }
  throws(() => parsePolicy({ ...TIME, maxHoldMs: 1.5 }), "maxHoldMs is an integer");
});

function numberFields(policy: object): string[] {
  return Object.entries(policy).filter(([, v]) => typeof v === "number").map(([k]) => k);
}

// A probe: `--policy '{"type":"fixed_stop","stopPct":1e400}'` said "stopPct must be a number";
// JSON reads it as Infinity, which the sweep grid's message names.
Deno.test("parsePolicy: a number past a double's range is named so", () => {
  for (
    const [text, said] of [
      ['{"type":"fixed_stop","stopPct":1e400}', "stopPct is a number too large for a double"],
      ['{"type":"ladder","levels":[{"multiple":-1e999,"fraction":0.5}]}', "levels.0.multiple is"],
    ]
  ) {
    throws(
      () => parsePolicy(text),
      (err) => err instanceof PolicyError && err.message.includes(said),
    );
  }
});
