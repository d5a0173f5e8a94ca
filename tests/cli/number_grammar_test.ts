/**
 * The two grammars of numeric flags (`cli/_args.ts`): every number is
 * decimal notation with an optional sign, fraction and exponent, blanks
 * around it ignored, and an integer flag takes one whose exact value is
 * whole; each has one message. The command lines are in
 * `number_flags_test.ts`.
 *
 * @module
 */
import { strictEqual as equal, throws } from "node:assert/strict";
import {
  decimalInteger,
  decimalNumber,
  integerFlag,
  positiveIntegerFlag,
  staleAfterMsFlag,
  UsageError,
} from "../../cli/_args.ts";
import { bpsFlag } from "../../cli/backtest.ts";

Deno.test("one grammar of numbers and one of integers", async (t) => {
  await t.step("a decimal number: sign, fraction, exponent, blanks", () => {
    for (const [raw, n] of [["+5", 5], ["-0", 0], [" 1.5 ", 1.5], [".5", 0.5], ["1e3", 1000]]) {
      equal(decimalNumber(raw as string), n, raw as string);
    }
    for (const raw of ["0x10", "1_000", "Infinity", "1e400", "", ".", "+", "5 5", "٥"]) {
      equal(decimalNumber(raw), undefined, raw);
    }
  });

  await t.step("an integer: a decimal number whose exact value is whole", () => {
    const taken: [string, number][] = [
      ["5", 5],
      [" 5 ", 5],
      ["+5", 5],
      ["-0", 0],
      ["5.0", 5],
      ["00012", 12],
      ["1e12", 1e12],
      ["1000000000000.0", 1e12],
      ["1.5e1", 15],
      ["100e-2", 1],
      ["-5", -5],
    ];
    for (const [raw, n] of taken) equal(decimalInteger(raw), n, raw);
    for (const raw of ["1.5", "1.05e1", "1e-400", "9007199254740993", "1e16", "abc", "0x10"]) {
      equal(decimalInteger(raw), undefined, raw);
    }
  });

  await t.step("integer flags: the same values and the same words", () => {
    equal(positiveIntegerFlag({ limit: " 5 " }, "limit"), 5);
    equal(positiveIntegerFlag({ limit: "+5" }, "limit"), 5);
    equal(positiveIntegerFlag({ limit: "1e1" }, "limit"), 10);
    equal(integerFlag({ port: "-0" }, "port", { max: 65_535 }), 0);
    for (const raw of ["0", "-1", "1.5", "abc", "0x10"]) {
      throws(
        () => positiveIntegerFlag({ limit: raw }, "limit"),
        new UsageError(`--limit must be an integer >= 1, got ${JSON.stringify(raw)}`),
      );
    }
    throws(
      () => integerFlag({ port: "70000" }, "port", { max: 65_535 }),
      new UsageError('--port must be an integer >= 0 and <= 65535, got "70000"'),
    );
    throws(
      () => integerFlag({ port: "1e20" }, "port"),
      new UsageError('--port must be an integer >= 0 and <= 9007199254740991, got "1e20"'),
    );
  });

  await t.step("number flags: +5 and -0 alike", () => {
    equal(staleAfterMsFlag({ "stale-after-hours": "+5" }), 5 * 3_600_000);
    equal(bpsFlag({ "fee-bps": "+5" }, "fee-bps"), 5);
    equal(Object.is(bpsFlag({ "fee-bps": "-0" }, "fee-bps"), 0), true);
    throws(
      () => bpsFlag({ "fee-bps": "-1" }, "fee-bps"),
      new UsageError('--fee-bps must be a number of bps >= 0 and < 10000, got "-1"'),
    );
  });
});
