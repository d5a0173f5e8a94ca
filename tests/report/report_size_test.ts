/**
 * Issue 13: the report of 100 runs stays under 3 MB. With 100 sweeps, each
 * with as many trials as a report of several runs can hold, the trials
 * dominate the file (a scale audit: 500 sweeps made 245 MB; 100 sweeps held
 * 5,000 trials in all, 3.9 MB).
 */
import assert from "node:assert/strict";
import { openWriter } from "../../ledger/writer.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { buildReport, REPORT_TRIALS_MAX } from "../../report/build.ts";
import { withTempDir } from "../_helpers.ts";

/** Issue 13's bound, in bytes. */
const REPORT_100_RUNS_BYTES_MAX = 3 * 1024 * 1024;

Deno.test("a report of 100 sweeps stays under 3 MB", async () => {
  await withTempDir(async (root) => {
    const runs = 100;
    const each = Math.ceil((2 * REPORT_TRIALS_MAX) / runs); // twice what the report holds
    const writer = await openWriter(root);
    try {
      let at = Date.UTC(2026, 0, 20);
      for (let r = 0; r < runs; r++) {
        const run_id = `sweep-${String(r).padStart(3, "0")}`;
        const events: Record<string, unknown>[] = [
          {
            event_type: "run.created",
            run_id,
            run_type: "sweep",
            config: {},
            data_fingerprint: "fp",
            timestamp_ms: at++,
          },
          { event_type: "run.started", run_id, timestamp_ms: at++ },
        ];
        for (let i = 0; i < each; i++) {
          // A policy sweep's trial: its parameters and the metrics a policy run records.
          const metrics: Record<string, number> = {};
          for (
            const k of [
              "calls",
              "trades",
              "win_rate",
              "mean_return_bps",
              "median_return_bps",
              "expectancy_bps",
              "profit_factor",
              "max_drawdown_bps",
              "avg_hold_ms",
              "stop_rate",
              "take_profit_rate",
              "time_stop_rate",
              "mean_tail_capture",
              "sharpe",
              "sortino",
              "win_rate_ci_low",
              "win_rate_ci_high",
            ]
          ) {
            metrics[k] = Math.round(((i * 7919 + k.length * 104729) % 100000) * 1.2345) / 1000;
          }
          events.push({
            event_type: "trial.recorded",
            run_id,
            timestamp_ms: at++,
            trial_id: `t${String(i).padStart(5, "0")}`,
            params: {
              type: "fixed_stop",
              stopPct: 0.05 * (1 + (i % 9)),
              takeProfitPct: 0.5 * (i % 7),
              trailPct: 0.01 * (i % 4),
            },
            metrics,
          });
        }
        events.push({
          event_type: "run.completed",
          run_id,
          summary: { trials: each },
          artifact_paths: {},
          timestamp_ms: at++,
        });
        await writer.appendBatch(events);
      }
    } finally {
      await writer.close();
    }
    await rebuildIndex(root, {});
    const { html } = await buildReport(root);
    const bytes = new TextEncoder().encode(html).length;
    assert.ok(bytes < REPORT_100_RUNS_BYTES_MAX, `${bytes} bytes`);
  });
});
