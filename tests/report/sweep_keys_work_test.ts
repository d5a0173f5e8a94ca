/**
 * A sweep's card shows the first `SWEEP_KEYS_MAX` varying parameters and
 * metrics, and the work of choosing them grows with the keys plus the
 * trials, not their product: a page of 1,000 trials of 5,000 keys took 5-7.5
 * s and about 1 GB, every value of every key written as JSON into a set of
 * its own before 50 were picked (an audit). Counted here as the calls of
 * `JSON.stringify`, with no timing. And the trials' parameters as recorded
 * (nested) make a leaf per dotted path, a key holding a dot apart.
 */
import assert from "node:assert/strict";
import type { TrialView } from "../../report/data.ts";
import { renderSweep, SWEEP_KEYS_MAX } from "../../report/html.ts";

const TRIALS = 200;
const KEYS = 300;

/** `TRIALS` trials of `KEYS` parameters and metrics, every one varying from the second trial. */
function wideTrials(): TrialView[] {
  return Array.from({ length: TRIALS }, (_, i) => {
    const params: Record<string, unknown> = { type: "trailing_stop", hardStopPct: 0.3 };
    const metrics: Record<string, unknown> = { calls: 10, win_rate: (i % 10) / 10 };
    for (let k = 0; k < KEYS; k++) {
      params[`p${k}`] = k + i;
      metrics[`m${k}`] = (k * i) % 997;
    }
    return { trial_id: `t${i}`, params, metrics };
  });
}

Deno.test("sweep card: choosing the keys shown is not keys times trials", async (t) => {
  await t.step("JSON written per key, not per key and trial", () => {
    const trials = wideTrials();
    const original = JSON.stringify;
    let calls = 0;
    JSON.stringify = ((...args: Parameters<typeof JSON.stringify>) => {
      calls++;
      return original(...args);
    }) as typeof JSON.stringify;
    let html: string;
    try {
      html = renderSweep(trials, "s").html;
    } finally {
      JSON.stringify = original;
    }
    assert.ok(html.includes(`the first ${SWEEP_KEYS_MAX} of ${KEYS} varying parameters`));
    // Two values of each parameter tell it varies; the page's own few writes besides.
    assert.ok(calls <= 3 * (KEYS + 2), `${calls} calls of JSON.stringify for ${KEYS} keys`);
  });

  await t.step("parameters as recorded: a leaf per dotted path, a key with a dot apart", () => {
    const nested = Array.from({ length: 12 }, (_, i): TrialView => ({
      trial_id: `t${i}`,
      params: {
        type: i % 2 ? "ladder" : "combo",
        levels: [{ multiple: 1 + (i % 3), fraction: 0.5 }],
        policies: [{ type: "time_stop", maxHoldMs: 1000 * (i % 4) }],
        "7": i % 5,
        "5": { x: i % 2 },
        "a.b": i % 2,
        a: { b: i % 3 },
        ...(i % 5 === 0 ? { rare: i } : {}),
        same: 3,
      },
      metrics: { calls: i, win_rate: i / 12, profit_factor: i % 3 ? i / 7 : null },
    }));
    const { html, charts } = renderSweep(nested, "s");
    const axis = html.slice(html.indexOf('data-axis="x"'), html.indexOf("</select>"));
    const values = [...axis.matchAll(/value="([^"]*)"/g)].map((m) => m[1]).sort();
    // Named as `ledger compare` and `--where` name them: the key "a.b" is `a\.b` (a probe: one
    // name for both hid one of them).
    assert.deepEqual(values, [
      "5.x",
      "7",
      "a.b",
      "a\\.b",
      "levels.0.multiple",
      "policies.0.maxHoldMs",
      "rare",
      "type",
    ]);
    const first = (charts.s as { p: Record<string, unknown> }[])[1].p;
    assert.equal(first["a\\.b"], 1);
    assert.equal(first["a.b"], 1);
    assert.equal(first["5.x"], 1);
  });
});
