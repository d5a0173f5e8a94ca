/**
 * The trials a report or a `ledger ui` page carries are bounded whatever the
 * sweeps hold (a scale audit): a run's view reads only its first trials and
 * a count (it read a sweep of 1M trials whole to keep 5,000: 11 s, 2.2 GB),
 * a report shares one budget of trials over its sweeps (the newest 500
 * sweeps made a 245 MB file), and a sweep's heatmap and table carry at most
 * `SWEEP_KEYS_MAX` parameters and metrics (a sweep of 2,500 + 2,500 keys
 * made a page of 154 MB). Each cut is said on the page.
 */
import assert from "node:assert/strict";
import { openWriter } from "../../ledger/writer.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { buildReport, REPORT_TRIALS_MAX } from "../../report/build.ts";
import { ReportIndex, TRIALS_MAX, type TrialView } from "../../report/data.ts";
import { renderSweep, SWEEP_KEYS_MAX } from "../../report/html.ts";
import { withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 1, 2);

/**
 * Record the sweeps `trials` (run id to its number of trials) in `root` and
 * index them. Trials come in pairs sharing one time, recorded in reverse
 * id order: the first of a run are the first by time, then by trial id.
 */
async function recordSweeps(root: string, trials: Record<string, number>): Promise<void> {
  const writer = await openWriter(root);
  try {
    let at = T0;
    for (const [run_id, count] of Object.entries(trials)) {
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
      for (let i = count - 1; i >= 0; i--) {
        events.push({
          event_type: "trial.recorded",
          run_id,
          timestamp_ms: at + Math.floor(i / 2),
          trial_id: `t${String(i).padStart(5, "0")}`,
          params: { type: "fixed_stop", stopPct: 0.1 * (1 + (i % 5)), takeProfitPct: i % 3 },
          metrics: { calls: 10, expectancy_bps: i % 7 },
        });
      }
      at += count;
      events.push({
        event_type: "run.completed",
        run_id,
        summary: { trials: count },
        artifact_paths: {},
        timestamp_ms: at++,
      });
      // deno-lint-ignore no-explicit-any
      await writer.appendBatch(events as any);
    }
  } finally {
    await writer.close();
  }
  await rebuildIndex(root, {});
}

/** The first `n` trial ids of a sweep recorded by {@linkcode recordSweeps}. */
function firstIds(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `t${String(i).padStart(5, "0")}`);
}

Deno.test("a run's view holds its first trials and their count, within the budget", async () => {
  await withTempDir(async (root) => {
    await recordSweeps(root, { "s-few": 2, "s-many": TRIALS_MAX + 10, "s-some": 100 });
    const index = await ReportIndex.open(root);
    try {
      // One run: its first TRIALS_MAX trials, in order, and how many it has.
      const big = await index.run("s-many");
      assert.ok(big);
      assert.equal(big.trials_total, TRIALS_MAX + 10);
      assert.deepEqual(big.trials.map((t) => t.trial_id), firstIds(TRIALS_MAX));
      // A budget spread over several runs: the one with 2 trials keeps them, the others
      // share the rest equally; each still has its first trials, in the same order.
      const views = await index.runs(["s-many", "s-few", "s-some", "nope"], { trialsBudget: 10 });
      assert.deepEqual(
        views.map((v) => [v.run.run_id, v.trials.map((t) => t.trial_id), v.trials_total]),
        [
          ["s-many", firstIds(4), TRIALS_MAX + 10],
          ["s-few", firstIds(2), 2],
          ["s-some", firstIds(4), 100],
        ],
      );
      // A budget of one run: the first trials of that run, as the query of several has them.
      const [alone] = await index.runs(["s-some"], { trialsBudget: 7 });
      assert.deepEqual(alone.trials.map((t) => t.trial_id), firstIds(7));
      assert.deepEqual(alone.trials[3].params, {
        type: "fixed_stop",
        stopPct: 0.4,
        takeProfitPct: 0,
      });
      // No budget: no trial read, the counts still said.
      const none = await index.runs(["s-many", "s-few"], { trialsBudget: 0 });
      assert.deepEqual(none.map((v) => [v.trials.length, v.trials_total]), [
        [0, TRIALS_MAX + 10],
        [0, 2],
      ]);
      // Not a whole number: refused (a review: NaN lifted every cap).
      for (const trialsBudget of [NaN, -1, 2.5]) {
        await assert.rejects(index.runs(["s-many"], { trialsBudget }), RangeError);
      }
    } finally {
      index.close();
    }
  });
});

Deno.test("a report of many sweeps holds REPORT_TRIALS_MAX trials in all and says so", async () => {
  await withTempDir(async (root) => {
    const sweeps = 6;
    const each = Math.ceil(REPORT_TRIALS_MAX / sweeps) + 200; // more than the budget in all
    const ids = Array.from({ length: sweeps }, (_, i) => `sweep-${i}`);
    await recordSweeps(root, Object.fromEntries(ids.map((id) => [id, each])));
    const { html } = await buildReport(root); // no run named: the newest runs
    const data = html.match(
      /<script type="application\/json" id="ledger-data">([\s\S]*?)<\/script>/,
    );
    assert.ok(data);
    const charts = JSON.parse(data[1]).charts as Record<string, unknown[]>;
    const held = Object.entries(charts).filter(([key]) => key.endsWith("-sweep"))
      .map(([, rows]) => rows.length);
    assert.equal(held.length, sweeps);
    const share = Math.floor(REPORT_TRIALS_MAX / sweeps);
    assert.deepEqual(held, Array(sweeps).fill(share));
    assert.ok(held.reduce((a, b) => a + b, 0) <= REPORT_TRIALS_MAX);
    // Each sweep says how many of its trials it holds, and the overview why.
    assert.equal(
      html.split(`the first ${share} of ${each} trials (the rest are not in this view)`).length - 1,
      sweeps,
    );
    assert.match(
      html,
      new RegExp(
        `The report holds ${share * sweeps} trials in all, shared by its ${sweeps} sweeps`,
      ),
    );
    // One sweep named: its first TRIALS_MAX (here all of them), no word of sharing.
    const one = await buildReport(root, { runIds: ["sweep-2"] });
    assert.match(one.html, new RegExp(`>${each} trials;`));
    assert.doesNotMatch(one.html, /id="trials-shared"/);
  });
});

Deno.test("a sweep's heatmap and table carry at most SWEEP_KEYS_MAX parameters and metrics", () => {
  const keys = SWEEP_KEYS_MAX + 7;
  const trials: TrialView[] = Array.from({ length: 4 }, (_, i) => ({
    trial_id: `t${i}`,
    params: {
      type: "fixed_stop", // the same in every trial: no axis, not carried
      ...Object.fromEntries(Array.from({ length: keys }, (_, k) => [`p${k}`, k + i])),
    },
    metrics: Object.fromEntries(Array.from({ length: keys }, (_, k) => [`m${k}`, k * i])),
  }));
  // The objective is past the first SWEEP_KEYS_MAX metrics: kept, and chosen.
  const objective = `m${keys - 1}`;
  const { html, charts } = renderSweep(trials, "s", objective);
  const rows = charts.s as { p: Record<string, unknown>; m: Record<string, unknown> }[];
  assert.equal(rows.length, 4);
  const params = Object.keys(rows[0].p);
  const metrics = Object.keys(rows[0].m);
  assert.deepEqual(params, Array.from({ length: SWEEP_KEYS_MAX }, (_, k) => `p${k}`));
  assert.equal(metrics.length, SWEEP_KEYS_MAX);
  assert.ok(metrics.includes(objective));
  assert.ok(!("type" in rows[0].p));
  assert.ok(html.includes(`<option selected value="${objective}">`));
  // The table's columns: the same keys (and the trial id).
  const head = html.match(/<thead><tr>([\s\S]*?)<\/tr><\/thead>/);
  assert.ok(head);
  assert.equal(head[1].split("<th ").length - 1, 1 + 2 * SWEEP_KEYS_MAX);
  // Said beside the heatmap.
  assert.match(
    html,
    new RegExp(
      `the first ${SWEEP_KEYS_MAX} of ${keys} varying parameters and ` +
        `${SWEEP_KEYS_MAX} of ${keys} metrics`,
    ),
  );
  // A sweep within the bound: every key, no such line.
  const small = renderSweep(
    trials.map((t, i) => ({ trial_id: t.trial_id, params: { a: i }, metrics: { m: i } })),
    "s",
  );
  assert.doesNotMatch(small.html, /data-keys-cut/);
});
