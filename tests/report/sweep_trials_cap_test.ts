/**
 * A sweep with more trials than a report carries (`TRIALS_MAX`; a sweep
 * accepts 10,000 combinations by default) says so: an audit found the
 * sweep card saying "5000 trials" for a sweep of 5,001, its heatmap drawn
 * from the first 5,000 without a word (here the best trial, the last one
 * recorded, was missing from it). A sweep of as many trials as a grid
 * accepts by default is carried whole (at 5,000 a review found the heatmap
 * of a default 10,000-trial sweep drawn from its first half).
 *
 * Real processes: `ledger emit --stdin`, `ledger rebuild-index`,
 * `ledger report`, then the page's text and chart data.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { GRID_TRIALS_MAX_DEFAULT } from "../../backtest/grid.ts";
import { TRIALS_MAX } from "../../report/data.ts";
import { SWEEP_TABLE_ROWS_MAX } from "../../report/html.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { emitAndIndex } from "./_fixture.ts";

const RUN_ID = "sweep-big-1";

/** A sweep of `total` trials, its best the last recorded, indexed; its report's page and heatmap rows. */
async function reportOfSweep(
  dir: string,
  total: number,
): Promise<{ html: string; rows: { id: string }[] }> {
  const root = join(dir, "ledger");
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
  return { html, rows: JSON.parse(data[1]).charts["run-0-sweep"] };
}

/** Rows of the page's table of trials. */
function trialRows(html: string): number {
  return html.match(/<tr><td class="id">t\d{5}<\/td>/g)?.length ?? 0;
}

Deno.test("report: a sweep over the trials cap says how many of its trials it shows", async () => {
  await withTempDir(async (dir) => {
    const total = TRIALS_MAX + 1;
    const { html, rows } = await reportOfSweep(dir, total);
    assert.equal(rows.length, TRIALS_MAX); // the page carries the first TRIALS_MAX
    // ... and says so beside the heatmap.
    assert.match(html, new RegExp(`the first ${TRIALS_MAX} of ${total} trials`));
    assert.doesNotMatch(html, new RegExp(`>${TRIALS_MAX} trials;`));
  });
});

Deno.test("report: a sweep of the grid's default most trials is carried whole", async () => {
  await withTempDir(async (dir) => {
    const total = GRID_TRIALS_MAX_DEFAULT;
    const { html, rows } = await reportOfSweep(dir, total);
    assert.equal(rows.length, total);
    // The best trial, the last recorded, is in the heatmap's data.
    assert.equal(rows.at(-1)?.id, `t${String(total - 1).padStart(5, "0")}`);
    assert.doesNotMatch(html, /the first \d+ of \d+ trials/);
    // Its table of trials has fewer rows, and says so (a probe: it said nothing).
    assert.equal(trialRows(html), SWEEP_TABLE_ROWS_MAX);
    assert.match(
      html,
      new RegExp(`<summary>Trials: the first ${SWEEP_TABLE_ROWS_MAX} of ${total}, in trial order`),
    );
  });
});

Deno.test("report: a sweep whose trials all fit its table says nothing of a cut", async () => {
  await withTempDir(async (dir) => {
    const { html } = await reportOfSweep(dir, SWEEP_TABLE_ROWS_MAX);
    assert.equal(trialRows(html), SWEEP_TABLE_ROWS_MAX);
    assert.match(html, /<summary>Trials<\/summary>/);
  });
});
