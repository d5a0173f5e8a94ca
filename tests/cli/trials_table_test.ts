/**
 * The trials table in a narrow terminal: run and trial ids whole, the
 * params and metrics that do not fit left out in turn (some of each stay),
 * and a line saying how many.
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { formatTrialsTable } from "../../cli/trials.ts";
import type { TrialRecord } from "../../indexer/query/mod.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const TRIALS: TrialRecord[] = [0, 1].map((i) => ({
  run_id: `sweep-20261129T101010-${i}abc`,
  trial_id: `t${i}`,
  recorded_at: null,
  params: { type: "fixed_stop", stopPct: 0.1 * i, takeProfitPct: 1 },
  metrics: { sharpe_per_trade: 0.5 + i, win_rate: 0.4, mean_return_bps: 123.4, calls_total: 320 },
}));

Deno.test("trials table: ids whole, columns left out in turn, said on a last line", () => {
  const lines = formatTrialsTable(TRIALS, { width: 80 }).split("\n");
  for (const line of lines) equal([...line].length <= 80, true, line);
  // What varies between the trials first (stopPct, sharpe), the constant params.type after it.
  match(lines[0], /^RUN ID +TRIAL {2}params\.stopPct {2}params\.type {2}metrics\.sharpe_/);
  match(lines[1], /^sweep-20261129T101010-0abc {2}t0 /);
  equal(
    lines.at(-1),
    "(4 more params/metrics columns: --wide, or ledger export trials)",
  );
  // Wide enough, or --wide: every column, no last line.
  for (const options of [{ width: 200 }, { width: 80, wide: true }]) {
    const all = formatTrialsTable(TRIALS, options).split("\n");
    deepEqual(all.length, 3);
    match(all[0], /metrics\.calls_total$/);
  }
});

Deno.test("trials table: a --columns path it has anyway is shown first, not left out to fit", () => {
  // A probe: `trials --columns metrics.stop_out_rate` on a sweep of 15 paths showed the table
  // as without it, the asked path left out to fit and not named.
  const columns = ["metrics.calls_total", "params.takeProfitPct"];
  const [header] = formatTrialsTable(TRIALS, { width: 80, columns }).split("\n");
  match(header, /^RUN ID +TRIAL {2}params\.takeP\S* {2}params\.stopPct {2}metrics\.calls/);
  // After the --sort fields of its kind.
  const sorted = formatTrialsTable(TRIALS, {
    width: 200,
    columns,
    sortFields: ["metrics.win_rate"],
  }).split("\n")[0];
  match(sorted, /params\.takeProfitPct {2}.*metrics\.win_rate {2}metrics\.calls_total/);
});

Deno.test("trials table: a wide-character run id stays whole like an ASCII one", () => {
  // 13 characters, 17 terminal columns: counted in characters, it was cut (a review).
  const trials = TRIALS.map((t) => ({ ...t, run_id: "実験実験-1a2b3c4d" }));
  const lines = formatTrialsTable(trials, { width: 80 }).split("\n");
  match(lines[1], /^実験実験-1a2b3c4d {2}t0 /);
});

Deno.test("ledger trials: an empty answer says how many trials archived runs hide", async () => {
  await withTempDir(async (root) => {
    const emit = (event: Record<string, unknown>) =>
      runLedger(["emit", "--root", root, "--event", JSON.stringify(event)]);
    for (
      const event of [
        {
          event_type: "run.created",
          run_id: "sw-1",
          run_type: "sweep",
          config: {},
          data_fingerprint: "f",
        },
        { event_type: "trial.recorded", run_id: "sw-1", trial_id: "t0", params: {}, metrics: {} },
      ]
    ) equal((await emit(event)).code, 0);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    equal((await runLedger(["archive", "--root", root, "sw-1"])).code, 0);
    const hidden = await runLedger(["trials", "--root", root]);
    equal(hidden.code, 0, hidden.stderr);
    // It said only "No trials match." (a help audit); runs says how many it hides.
    equal(
      hidden.stdout.trim(),
      "No trials match (1 trial in the index; 1 of archived runs, shown with --all).",
    );
    const shown = await runLedger(["trials", "--root", root, "--all"]);
    match(shown.stdout, /^RUN ID +TRIAL/);
    // --run of a run without trials says so of that run (a probe: "No trials in the index.",
    // with sw-1's trial there); one whose trials all fail --where says how many it has.
    const plain = { event_type: "run.created", run_id: "p-1", run_type: "policy" };
    equal((await emit({ ...plain, config: {}, data_fingerprint: "f" })).code, 0);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const none = await runLedger(["trials", "--root", root, "--run", "p-"]);
    equal(none.stdout.trim(), "Run p-1 has no trials.");
    const unmatched = await runLedger([
      "trials",
      "--root",
      root,
      "--run",
      "sw-1",
      "--where",
      "trial_id = 'x'",
    ]);
    equal(unmatched.stdout.trim(), "No trials of run sw-1 match (1 trial in all).");
  });
});
