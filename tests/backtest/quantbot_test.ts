/**
 * quantBot's RiskPolicy JSON (`kind`, its value ranges, its exit reasons) and
 * one test per remaining difference listed in docs/QUANTBOT.md. Each
 * difference test states what quantBot's executor would give and asserts
 * what ledger gives, so a change on either side shows up here.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal, throws } from "node:assert/strict";
import { replayCall, replayCalls } from "../../backtest/executor.ts";
import { parsePolicy, type Policy } from "../../backtest/policies.ts";
import { MINUTE_MS, near, seriesOf } from "./_series.ts";

// Entry at the anchor, minute 0, p0 = 1.0; rows are [minute, open, high, low, close].
const ANCHOR = [0, 1.0, 1.0, 1.0, 1.0] as const;

function replay(policy: Policy, rows: number[][], costs = {}, anchor: number[] = [...ANCHOR]) {
  const trade = replayCall(policy, seriesOf([anchor, ...rows]), { alertTsMs: 0, ...costs });
  if (trade === null) throw new Error("expected a trade");
  return trade;
}

Deno.test("quantBot RiskPolicy JSON is accepted as quantBot spells it", async (t) => {
  // quantBot's DEFAULT_* policies and the edges of its zod schema.
  const accepted: [unknown, string][] = [
    [{ kind: "fixed_stop", stopPct: 0.2, takeProfitPct: 1.0 }, "fixed_stop"],
    [{ kind: "time_stop", maxHoldMs: 3_600_000 }, "time_stop"],
    [
      { kind: "trailing_stop", activationPct: 0.2, trailPct: 0.1, hardStopPct: 0.2 },
      "trailing_stop",
    ],
    [{
      kind: "ladder",
      levels: [{ multiple: 2, fraction: 0.5 }, { multiple: 3, fraction: 0.3 }, {
        multiple: 4,
        fraction: 0.2,
      }],
      stopPct: 0.2,
    }, "ladder"],
    [{ kind: "combo", policies: [{ kind: "fixed_stop", stopPct: 0.2 }] }, "combo"],
    [{ kind: "fixed_stop", stopPct: 0 }, "fixed_stop"],
    [{ kind: "fixed_stop", stopPct: 1, takeProfitPct: 0 }, "fixed_stop"],
    [{ kind: "trailing_stop", activationPct: 0, trailPct: 0 }, "trailing_stop"],
    [{ kind: "trailing_stop", activationPct: 0, trailPct: 1, hardStopPct: 0 }, "trailing_stop"],
    [{ kind: "ladder", levels: [{ multiple: 1, fraction: 0 }], stopPct: 0 }, "ladder"],
    [{
      kind: "ladder",
      levels: [{ multiple: 2, fraction: 0.7 }, { multiple: 3, fraction: 0.7 }],
    }, "ladder"],
    [{ type: "fixed_stop", kind: "fixed_stop", stopPct: 0.2 }, "fixed_stop"],
  ];
  for (const [input, type] of accepted) {
    await t.step(JSON.stringify(input), () => {
      equal(parsePolicy(input).type, type);
      equal(parsePolicy(JSON.stringify(input)).type, type);
    });
  }
  await t.step("a combo nested in a combo is flattened, kind read at every level", () => {
    const p = parsePolicy({
      kind: "combo",
      policies: [
        { kind: "fixed_stop", stopPct: 0.2 },
        { kind: "combo", policies: [{ kind: "time_stop", maxHoldMs: 60_000 }] },
      ],
    });
    deepEqual(p, {
      type: "combo",
      policies: [{ type: "fixed_stop", stopPct: 0.2 }, { type: "time_stop", maxHoldMs: 60_000 }],
    });
  });
});

Deno.test("quantBot's zeros mean 'none' where quantBot reads them so", async (t) => {
  const rows = [[1, 1.0, 1.5, 0.5, 1.2], [2, 1.2, 1.3, 1.1, 1.25]];
  await t.step("takeProfitPct 0: no target", () => {
    const tr = replay(parsePolicy({ kind: "fixed_stop", stopPct: 0.6, takeProfitPct: 0 }), rows);
    equal(tr.exitReason, "end_of_data");
    near(tr.exitPx, 1.25, "exit_px");
  });
  await t.step("hardStopPct 0: no hard stop", () => {
    const tr = replay(
      parsePolicy({ kind: "trailing_stop", activationPct: 5, trailPct: 0.1, hardStopPct: 0 }),
      rows,
    );
    equal(tr.exitReason, "end_of_data");
  });
  await t.step("ladder stopPct 0: no stop", () => {
    const tr = replay(
      parsePolicy({ kind: "ladder", levels: [{ multiple: 5, fraction: 1 }], stopPct: 0 }),
      rows,
    );
    equal(tr.exitReason, "end_of_data");
  });
  await t.step("fixed_stop stopPct 0 is a stop at the entry (quantBot computes p0·(1-0))", () => {
    const tr = replay(parsePolicy({ kind: "fixed_stop", stopPct: 0 }), rows);
    equal(tr.exitReason, "stop_loss");
    near(tr.exitPx, 1.0, "exit_px");
  });
  await t.step("fractions over 1: a level sells at most what is left", () => {
    const tr = replay(
      parsePolicy({
        kind: "ladder",
        levels: [{ multiple: 1.2, fraction: 0.7 }, { multiple: 1.4, fraction: 0.7 }],
      }),
      rows,
    );
    equal(tr.exitReason, "ladder_complete");
    near(tr.exitPx, 0.7 * 1.2 + 0.3 * 1.4, "exit_px");
  });
});

Deno.test("stops fill at their level, also through a gap, as quantBot's do", async (t) => {
  // Each candle opens under the stop level: quantBot and ledger fill at the level.
  const gap = [[1, 0.5, 0.55, 0.4, 0.45]];
  const cases: [unknown, string, number][] = [
    [{ kind: "fixed_stop", stopPct: 0.2 }, "stop_loss", 0.8],
    [
      { kind: "trailing_stop", activationPct: 0.5, trailPct: 0.1, hardStopPct: 0.3 },
      "hard_stop",
      0.7,
    ],
    [{ kind: "ladder", levels: [{ multiple: 2, fraction: 1 }], stopPct: 0.25 }, "stop_loss", 0.75],
  ];
  for (const [input, reason, level] of cases) {
    await t.step(`${reason} at ${level}`, () => {
      const tr = replay(parsePolicy(input), gap);
      equal(tr.exitReason, reason);
      near(tr.exitPx, level, "exit_px");
    });
  }
});

Deno.test("exit reasons are quantBot's: ladder_complete and no_entry", async (t) => {
  await t.step("the levels selling everything is ladder_complete", () => {
    const tr = replay(
      parsePolicy({ kind: "ladder", levels: [{ multiple: 2, fraction: 1 }], stopPct: 0.5 }),
      [[1, 1.0, 2.5, 0.9, 2.2]],
    );
    equal(tr.exitReason, "ladder_complete");
    equal(tr.stopOut, false);
  });
  await t.step("a call without candles is a no_entry row, counted apart", () => {
    const s = seriesOf([[...ANCHOR], [1, 1.0, 1.1, 0.9, 1.0]]);
    const calls = [
      { callId: "in", caller: "a", mint: "M", chain: "solana", alertTsMs: 0 },
      { callId: "late", caller: "a", mint: "M", chain: "solana", alertTsMs: 10 * MINUTE_MS },
      { callId: "none", caller: "b", mint: "X", chain: "solana", alertTsMs: 5 },
    ];
    const r = replayCalls(parsePolicy({ kind: "fixed_stop", stopPct: 0.2 }), calls, {
      seriesByMint: new Map([["M", s]]),
    });
    deepEqual(r.trades.map((t) => t.call.callId), ["in"]);
    equal(r.skipped, 2);
    deepEqual(r.noEntry.map((t) => [t.call.callId, t.trade.exitReason]), [
      ["late", "no_entry"],
      ["none", "no_entry"],
    ]);
    const none = r.noEntry[1].trade;
    deepEqual(
      [none.realizedReturnBps, none.entryTsMs, none.exitTsMs, none.entryPx, none.tailCapture],
      [0, 5, 5, 0, null],
    );
  });
});

Deno.test("meaningless quantBot values are refused, saying why", async (t) => {
  const cases: [unknown, string][] = [
    [
      { kind: "ladder", levels: [{ multiple: 0.5, fraction: 1 }] },
      "Invalid policy: levels.0.multiple must be >= 1",
    ],
    [{ kind: "fixed_stop", stopPct: 0.2, stopPtc: 0.1 }, "Invalid policy: unknown field stopPtc"],
    [
      { kind: "wash_rebound", trailPct: 0.2, washPct: 0.5, reboundPct: 0.2 },
      "Invalid policy: kind: wash_rebound re-enters after an exit (several trades per call)",
    ],
  ];
  for (const [input, message] of cases) {
    await t.step(message, () => {
      throws(() => parsePolicy(input), (err: Error) => err.message.startsWith(message));
    });
  }
});

// ---------------------------------------------------------------------------
// One test per difference from quantBot's executor (docs/QUANTBOT.md).

Deno.test("difference 1: the entry candle is not replayed (no look-ahead)", () => {
  // The anchor candle's high reaches the 2x target before its close (the entry).
  // quantBot replays from the entry candle itself: take_profit at minute 0, +10000 bps.
  const tr = replay(
    parsePolicy({ kind: "fixed_stop", stopPct: 0.5, takeProfitPct: 1 }),
    [[1, 1.0, 1.1, 0.9, 1.05]],
    {},
    [0, 1.0, 2.5, 0.9, 1.0],
  );
  equal(tr.exitReason, "end_of_data");
  equal(tr.exitTsMs, MINUTE_MS);
  near(tr.realizedReturnBps, 500, "return");
});

Deno.test("difference 2: a time stop fills at the open of its candle", () => {
  // quantBot fills at that candle's close (1.6); ledger at its open (1.3).
  const tr = replay(parsePolicy({ kind: "time_stop", maxHoldMs: 2 * MINUTE_MS }), [
    [1, 1.0, 1.1, 0.95, 1.05],
    [2, 1.3, 1.7, 1.2, 1.6],
  ]);
  equal(tr.exitReason, "time_stop");
  near(tr.exitPx, 1.3, "exit_px");
});

Deno.test("difference 3: costs are multiplicative per side", () => {
  const tr = replay(
    parsePolicy({ kind: "fixed_stop", stopPct: 0.2, takeProfitPct: 1 }),
    [[1, 1.0, 2.5, 0.9, 2.2]],
    { feeBps: 30, slippageBps: 10 },
  );
  const quantBot = 10_000 - 2 * 40; // gross minus (fee + slippage) per side, added
  const ledger = (2 * (1 - 0.004) / (1 * (1 + 0.004)) - 1) * 10_000;
  near(tr.realizedReturnBps, ledger, "return");
  equal(Math.round(ledger) === quantBot, false);
});

Deno.test("difference 4: tail capture is net, to the end of the candles, uncapped", () => {
  // Target 2x at minute 1; the price then runs to 4x. quantBot: gross 10000 over the
  // peak seen up to the exit (2.2 -> 12000 bps), 0.833. ledger: net over the
  // peak to the end of the candles (4.0 -> 30000 bps).
  const tr = replay(parsePolicy({ kind: "fixed_stop", stopPct: 0.5, takeProfitPct: 1 }), [
    [1, 1.0, 2.2, 0.9, 2.1],
    [2, 2.1, 4.0, 2.0, 3.9],
  ], { feeBps: 10 });
  near(tr.tailCapture, tr.realizedReturnBps / 30_000, "tail_capture");
});

Deno.test("difference 5: a combo's sub-policies share one position", () => {
  // quantBot runs each sub-policy alone and keeps the earliest exit: the fixed
  // stop at minute 2 (-3000 bps, all of it). ledger: the ladder sells half at 2x
  // on minute 1, then the stop sells the other half at 0.7.
  const tr = replay(
    parsePolicy({
      kind: "combo",
      policies: [
        { kind: "ladder", levels: [{ multiple: 2, fraction: 0.5 }] },
        { kind: "fixed_stop", stopPct: 0.3 },
      ],
    }),
    [[1, 1.0, 2.2, 0.95, 2.1], [2, 2.0, 2.1, 0.6, 0.65]],
  );
  equal(tr.exitReason, "stop_loss");
  near(tr.exitPx, 1.35, "exit_px");
  near(tr.realizedReturnBps, 3500, "return");
});

Deno.test("difference 6: a trailing stop trails the highs of earlier candles only", () => {
  // Minute 1 activates and peaks at 2.0; its low 1.7 is under quantBot's trail
  // (2.0·0.9 = 1.8, moved by the same candle's high): quantBot exits at minute 1.
  // ledger's trail for minute 1 is still unarmed; minute 2's low 1.75 hits 1.8.
  const tr = replay(parsePolicy({ kind: "trailing_stop", activationPct: 0.5, trailPct: 0.1 }), [
    [1, 1.0, 2.0, 1.7, 1.9],
    [2, 1.9, 1.95, 1.75, 1.8],
  ]);
  equal(tr.exitReason, "trailing_stop");
  equal(tr.exitTsMs, 2 * MINUTE_MS);
  near(tr.exitPx, 1.8, "exit_px");
});

Deno.test("a trailing stop of activationPct 0 arms on a later high, not at the entry", () => {
  // Entry at 1.0 (the anchor's close). With the entry candle not replayed (difference 1) and
  // the trail armed by earlier candles' highs (difference 6), a path that only falls never arms
  // it: no trailing exit, the end of the candles at 0.6.
  const falling = replay(parsePolicy({ kind: "trailing_stop", activationPct: 0, trailPct: 0.1 }), [
    [1, 0.95, 0.98, 0.8, 0.85],
    [2, 0.85, 0.9, 0.55, 0.6],
  ]);
  equal(falling.exitReason, "end_of_data");
  near(falling.exitPx, 0.6, "exit_px");
  // A high at the entry price arms it; the next candle's low under 1.0·0.9 exits at 0.9.
  const armed = replay(parsePolicy({ kind: "trailing_stop", activationPct: 0, trailPct: 0.1 }), [
    [1, 0.95, 1.0, 0.93, 0.97],
    [2, 0.97, 0.98, 0.85, 0.88],
  ]);
  equal(armed.exitReason, "trailing_stop");
  near(armed.exitPx, 0.9, "exit_px");
});

Deno.test("difference 7: the exit candle counts up to the stop fill in the adverse excursion", () => {
  // A 10% stop; the exit candle's low is 0.85. quantBot takes the candle's low:
  // -1500 bps. ledger counts the exit candle only up to the exit, the fill at 0.9.
  const tr = replay(parsePolicy({ kind: "fixed_stop", stopPct: 0.1 }), [
    [1, 1.0, 1.05, 0.85, 0.9],
  ]);
  equal(tr.exitReason, "stop_loss");
  near(tr.exitPx, 0.9, "exit_px");
  near(tr.maxAdverseExcursionBps, -1000, "max_adverse_excursion_bps");
});

Deno.test("docs/QUANTBOT.md lists each difference with its test, and only those", async () => {
  const doc = await Deno.readTextFile(new URL("../../docs/QUANTBOT.md", import.meta.url));
  const tests = await Deno.readTextFile(new URL(import.meta.url));
  const inDoc = [...doc.matchAll(/\(`difference (\d+)/g)].map((m) => Number(m[1]));
  const inTests = [...tests.matchAll(/Deno\.test\("difference (\d+):/g)].map((m) => Number(m[1]));
  deepEqual(inDoc, inTests);
  const topics = [
    "look-ahead",
    "open",
    "Multiplicative costs",
    "Tail capture",
    "Combo",
    "adverse excursion",
  ];
  for (const topic of topics) {
    equal(doc.includes(topic), true, topic);
  }
});
