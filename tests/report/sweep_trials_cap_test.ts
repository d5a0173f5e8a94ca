/**
 * A sweep with more trials than a report carries (`TRIALS_MAX`; a sweep
 * accepts 10,000 combinations by default) says so: an audit found the
 * sweep card saying "5000 trials" for a sweep of 5,001, its heatmap drawn
 * from the first 5,000 without a word (here the best trial, the last one
 * recorded, was missing from it).
 *
 * Real processes: `ledger emit --stdin`, `ledger rebuild-index`,
 * `ledger report`, then the page's text and chart data.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { TRIALS_MAX } from "../../report/data.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { emitAndIndex } from "./_fixture.ts";

const RUN_ID = "sweep-big-1";

Deno.test("report: a sweep over the trials cap says how many of its trials it shows", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const total = TRIALS_MAX + 1;
    const t0 = Date.UTC(2026, 1, 2);
    const lines = [
      {
        event_type: "run.created",
        run_id: RUN_ID,
        timestamp_ms: t0,
        run_type: "sweep",
        config: {},
        data_fingerprint: "fp",
      },
      { event_type: "run.started", run_id: RUN_ID, timestamp_ms: t0 + 1 },
    ];
    for (let i = 0; i < total; i++) {
      lines.push(
        {
          event_type: "trial.recorded",
          run_id: RUN_ID,
          timestamp_ms: t0 + 10 + i,
          trial_id: `t${String(i).padStart(5, "0")}`,
          params: { type: "fixed_stop", stopPct: 0.01 * (1 + (i % 50)), takeProfitPct: i },
          metrics: { calls: 10, expectancy_bps: i === total - 1 ? 9_999 : i % 7 },
        } as (typeof lines)[number],
      );
    }
    lines.push(
      {
        event_type: "run.completed",
        run_id: RUN_ID,
        timestamp_ms: t0 + 10 + total,
        summary: { trials: total },
        artifact_paths: {},
      } as (typeof lines)[number],
    );
    await emitAndIndex(root, lines);
    const out = join(dir, "report.html");
    const report = await runLedger(["report", RUN_ID, "--root", root, "--out", out]);
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(out);
    const data = html.match(
      /<script type="application\/json" id="ledger-data">([\s\S]*?)<\/script>/,
    );
    assert.ok(data);
    const rows = JSON.parse(data[1]).charts["run-0-sweep"] as unknown[];
    assert.equal(rows.length, TRIALS_MAX); // the page carries the first TRIALS_MAX
    // ... and says so beside the heatmap.
    assert.match(html, new RegExp(`the first ${TRIALS_MAX} of ${total} trials`));
    assert.doesNotMatch(html, new RegExp(`>${TRIALS_MAX} trials;`));
  });
});
