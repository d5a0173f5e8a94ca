/**
 * A sweep beside a policy run in the report and the UI, as `ledger runs`
 * and `ledger compare --json` show them (a probe): the runs overview shows
 * the sweep's best trial's calls, win rate and mean return, starred, where
 * it showed "-" (a run whose summary has its own calls shows its own, as
 * its own win rate); the compare view has the per-caller results `compare
 * --json` has as `callers` (the policy run's `by_caller`, the sweep's best
 * trial's), and its Summary lists neither `by_caller.*` nor
 * `best_trial.by_caller.*` (it listed about 100 rows of a sweep's); a run
 * named twice is refused by `ledger report` as by `ledger compare` and the UI.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { LiveIndex } from "../../report/data.ts";
import { uiHandler } from "../../report/server.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const POLICY = "pol-1";
const SWEEP = "swp-1";
/** A run with its own calls, win rate (as text) and mean beside a best trial's. */
const MIXED = "mix-1";

/** A caller's results as a summary's `by_caller` holds them. */
function callerStats(count: number, winRate: number, mean: number) {
  return {
    count,
    win_rate: winRate,
    mean_return_bps: mean,
    median_return_bps: mean - 1,
    calls_no_entry: 0,
    win_rate_ci_low: 0,
    win_rate_ci_high: 1,
  };
}

/** The two runs, written by `ledger emit --stdin` and indexed. */
async function writeRuns(root: string): Promise<void> {
  const t0 = Date.now() - 60_000;
  const run = (runId: string, runType: string, at: number, summary: unknown) => [
    {
      event_type: "run.created",
      run_id: runId,
      timestamp_ms: at,
      run_type: runType,
      config: {},
      data_fingerprint: "f",
    },
    { event_type: "run.started", run_id: runId, timestamp_ms: at + 1 },
    {
      event_type: "run.completed",
      run_id: runId,
      timestamp_ms: at + 2,
      summary,
      artifact_paths: {},
    },
  ];
  const events = [
    ...run(POLICY, "policy", t0, {
      count: 5,
      win_rate: 0.4,
      mean_return_bps: 12,
      by_caller: { amy: callerStats(3, 1 / 3, 10), bob: callerStats(2, 0.5, 15) },
    }),
    ...run(SWEEP, "sweep", t0 + 10, {
      trials: 2,
      calls_total: 9, // every call, where its best trial traded 6 (a review: 9 shown, unstarred)
      objective: "median_return_bps",
      best_trial: {
        trial_id: "t002",
        params: { type: "fixed_stop", stopPct: 0.3 },
        metrics: { calls: 6, win_rate: 0.75, mean_return_bps: 31.5 },
        by_caller: { amy: callerStats(4, 0.75, 40), cat: callerStats(2, 0.5, 20) },
      },
    }),
    // A probe: its row showed the best trial's calls, starred, beside its own win rate and mean;
    // "-" for the win rate `ledger runs` shows as "0.5"; and "-0" for a mean of -0.4 bps.
    ...run(MIXED, "policy", t0 + 20, {
      calls: 10,
      win_rate: "0.5",
      mean_return_bps: -0.4,
      best_trial: { trial_id: "t1", metrics: { calls: 4, win_rate: 0.25, mean_return_bps: 7 } },
    }),
  ];
  const emitted = await runLedger(["emit", "--stdin", "--root", root], {
    stdin: events.map((e) => JSON.stringify(e)).join("\n") + "\n",
  });
  assert.equal(emitted.code, 0, emitted.stderr);
  const built = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(built.code, 0, built.stderr);
}

/** The `<tr>` of the overview table whose run link is `runId`. */
function overviewRowOf(html: string, runId: string): string {
  const table = html.slice(html.indexOf('<table id="runs"'));
  const row = table.split("<tr>").find((r) => r.includes(`>${runId}</a>`));
  assert.ok(row !== undefined, `no overview row of ${runId}`);
  return row.slice(0, row.indexOf("</tr>"));
}

/** The cells' text of an HTML row, tags removed. */
function cellsOf(row: string): string[] {
  return [...row.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((m) => m[1].replace(/<[^>]+>/g, ""));
}

/** The per-caller table of a compare page: caller to its cells. */
function compareCallers(html: string): Map<string, string[]> {
  const at = html.indexOf("data-compare-callers");
  assert.ok(at >= 0, "the compare view has a per-caller table");
  const table = html.slice(at, html.indexOf("</table>", at));
  const rows = table.split("<tr>").slice(2).map((r) => cellsOf(r));
  return new Map(rows.map(([caller, ...cells]) => [caller, cells]));
}

/** The checks both the report file and the UI pass. */
function checkPages(overview: string, compare: string): void {
  // Overview: the sweep's best trial's values, starred; the policy run's own, not starred.
  const sweepCells = cellsOf(overviewRowOf(overview, SWEEP));
  assert.deepEqual(sweepCells.slice(-3), ["6*", "75.0%*", "32*"]);
  const policyCells = cellsOf(overviewRowOf(overview, POLICY));
  assert.deepEqual(policyCells.slice(-3), ["5", "40.0%", "12"]);
  assert.ok(overview.includes("data-best-trial-note"), "the star is explained");
  // Compare: per caller, A (the policy run) then B (the sweep), calls, win rate, mean, median.
  const callers = compareCallers(compare);
  assert.deepEqual([...callers.keys()], ["amy", "bob", "cat"]); // by calls over both runs
  assert.deepEqual(callers.get("amy"), ["3", "0.3333", "10", "9", "4", "0.75", "40", "39"]);
  assert.deepEqual(callers.get("bob"), ["2", "0.5", "15", "14", "-", "-", "-", "-"]);
  assert.deepEqual(callers.get("cat"), ["-", "-", "-", "-", "2", "0.5", "20", "19"]);
  assert.ok(compare.includes("B: its best trial t002"));
  const summary = compare.slice(compare.indexOf("<h2>Summary</h2>"));
  assert.ok(summary.includes("best_trial.metrics.win_rate"), "the best trial's metrics stay");
  assert.ok(!summary.includes("by_caller"), "no by_caller row in the Summary");
}

Deno.test("report and ui: a sweep beside a policy run in the overview and the compare", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    await writeRuns(root);

    await t.step("ledger report", async () => {
      const out = join(dir, "report.html");
      const r = await runLedger(["report", POLICY, SWEEP, "--root", root, "--out", out]);
      assert.equal(r.code, 0, r.stderr);
      const html = await Deno.readTextFile(out);
      const compare = html.slice(html.indexOf('id="compare"'));
      checkPages(html, compare.slice(0, compare.indexOf('id="run-0"')));
    });

    await t.step(
      "ledger report of every run: a summary's own values, read as numbers",
      async () => {
        const out = join(dir, "all.html");
        const r = await runLedger(["report", "--root", root, "--out", out]);
        assert.equal(r.code, 0, r.stderr);
        const html = await Deno.readTextFile(out);
        // Its own calls, win rate and mean, none starred; text that is a number read as one;
        // -0.4 bps as itself: not -0, nor 0, a mean a run that broke even has (a probe).
        assert.deepEqual(cellsOf(overviewRowOf(html, MIXED)).slice(-3), ["10", "50.0%", "-0.4"]);
      },
    );

    // A probe: `ledger report A A` wrote a report of A (exit 0) where the UI answered 400.
    await t.step("ledger report names a run twice: exit 2, one line, nothing written", async () => {
      const out = join(dir, "twice.html");
      for (const named of [[POLICY, POLICY], [SWEEP, POLICY, "pol"]]) {
        const r = await runLedger(["report", ...named, "--root", root, "--out", out]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr, `ledger report: run ${POLICY} is named twice\n`);
        await assert.rejects(Deno.stat(out), Deno.errors.NotFound);
      }
      const compare = await runLedger(["compare", POLICY, "pol", "--root", root]);
      assert.equal(compare.code, 2, compare.stderr);
      assert.equal(compare.stderr, `ledger compare: run ${POLICY} is named twice\n`);
    });

    await t.step("ledger ui", async () => {
      const live = new LiveIndex(root);
      try {
        const handle = uiHandler(live);
        const get = async (path: string) => {
          const res = await handle(new Request(`http://ui${path}`));
          assert.equal(res.status, 200, path);
          return await res.text();
        };
        checkPages(await get("/"), await get(`/compare?run=${POLICY}&run=${SWEEP}`));
        const twice = await handle(new Request(`http://ui/compare?run=${POLICY}&run=pol`));
        assert.equal(twice.status, 400);
        assert.match(await twice.text(), /Run &quot;pol-1&quot; is named twice\./);
      } finally {
        live.close();
      }
    });
  });
});
