/**
 * Returns the charts cannot draw as they are. A real trade far out of the
 * usual range: a memecoin-style price going from 1e-12 to 45 is a return of
 * 4.5e17 bps. A probe found `ledger report` looping forever on it (the
 * histogram's edges stop moving past 2^53), and one `ledger ui` request for
 * the run blocking every later one, SIGTERM included. And NaN or infinite
 * returns in a results file another tool wrote: the probe found the equity
 * curve blank under "5 trades" and the histograms short, unsaid. Real
 * processes: `ledger backtest policy` (or `ledger emit` and a Parquet file),
 * `ledger rebuild-index`, `ledger report` and `ledger ui`, each with a
 * deadline so a hang fails the test instead of stalling it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { startUi } from "./_fixture.ts";

/** Longest `ledger report` of one run may take, ms (about 2 s when it works). */
const REPORT_MS_MAX = 60_000;
/** Longest one UI request may take, ms. */
const REQUEST_MS_MAX = 30_000;

/** The chart data a report page carries. */
function chartData(html: string): Record<string, unknown> {
  const m = html.match(/<script type="application\/json" id="ledger-data">([\s\S]*?)<\/script>/);
  assert.ok(m, "the page carries its chart data");
  return (JSON.parse(m[1]) as { charts: Record<string, unknown> }).charts;
}

/** The probe's inputs: one call whose price goes from 1e-12 to 45 in a minute. */
async function writeInputs(dir: string): Promise<{ calls: string; candles: string }> {
  const calls = join(dir, "calls.csv");
  await Deno.writeTextFile(
    calls,
    "call_id,caller,mint,chain,alert_ts\nc1,whale,M1,sol,2025-01-01T00:00:00Z\n",
  );
  const candles = join(dir, "candles.csv");
  await Deno.writeTextFile(
    candles,
    [
      "mint,ts,open,high,low,close,volume",
      "M1,1735689600000,0.000000000001,0.000000000001,0.000000000001,0.000000000001,1",
      "M1,1735689660000,0.000000000001,50,0.000000000001,45,1",
      "M1,1735689720000,45,46,44,45,1",
    ].join("\n") + "\n",
  );
  return { calls, candles };
}

Deno.test("report and ui: a trade of 4.5e17 bps is drawn in the last bin, said", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const { calls, candles } = await writeInputs(dir);
    const policy = JSON.stringify({ type: "fixed_stop", stopPct: 0.3 });
    const run = await runLedger([
      ...["backtest", "policy", "--root", root, "--calls", calls, "--candles", candles],
      ...["--policy", policy, "--run-id", "huge-1", "--no-index", "--json"],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(JSON.parse(run.stdout).summary.mean_return_bps > 2 ** 53, run.stdout);
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const note = "Too far out to draw, counted at the edge: 1 value above 100,000,000,000 bps " +
      "in the last bin.";

    await t.step("ledger report ends, the histogram's last bin holds the trade", async () => {
      const out = join(dir, "report.html");
      const report = await runLedger(["report", "--root", root, "--out", out], {
        signal: AbortSignal.timeout(REPORT_MS_MAX),
      });
      assert.equal(report.code, 0, `killed at ${REPORT_MS_MAX} ms? ${report.stderr}`);
      const html = await Deno.readTextFile(out);
      const returns = chartData(html)["run-0-returns"] as {
        bins: { x0: number; x1: number; count: number; above?: number }[];
      };
      assert.deepEqual(returns.bins, [
        { x0: 1e11, x1: 1e11 + 1, count: 1, above_zero: "all", above: 1 },
      ]);
      assert.ok(html.includes(note), "the page says where the trade is counted");
    });

    await t.step("ledger ui answers the run's page, then the next request", async () => {
      const ui = await startUi(root);
      let answered = false;
      try {
        const res = await fetch(`${ui.url}/run/huge-1`, {
          signal: AbortSignal.timeout(REQUEST_MS_MAX),
        });
        assert.equal(res.status, 200);
        assert.ok((await res.text()).includes(note));
        const overview = await fetch(`${ui.url}/`, { signal: AbortSignal.timeout(REQUEST_MS_MAX) });
        assert.equal(overview.status, 200);
        await overview.body?.cancel();
        answered = true;
      } finally {
        // A server stuck in a loop does not see SIGTERM: SIGKILL, so the test ends.
        const stopped = await ui.stop(answered ? "SIGTERM" : "SIGKILL");
        if (answered) assert.equal(stopped.code, 0, stopped.stderr);
      }
    });
  });
});

/**
 * Run `runId`, emitted as a completed policy run, with a `policy_results.parquet`
 * of one trade per return, a minute apart, as another tool could write it.
 */
async function writeRunWithReturns(
  root: string,
  runId: string,
  trades: { returnBps: string; adverseBps: string }[],
): Promise<void> {
  const t0 = Date.UTC(2026, 0, 5);
  const lines = [
    { event_type: "run.created", run_type: "policy", config: {}, data_fingerprint: "fp" },
    { event_type: "run.started" },
    { event_type: "run.completed", summary: {}, artifact_paths: {} },
  ].map((e, i) => JSON.stringify({ ...e, run_id: runId, timestamp_ms: t0 + i })).join("\n");
  const emitted = await runLedger(["emit", "--stdin", "--root", root], { stdin: lines + "\n" });
  assert.equal(emitted.code, 0, emitted.stderr);
  const dir = join(root, "artifacts", "runs", runId);
  await Deno.mkdir(dir, { recursive: true });
  const rows = trades.map((t, i) =>
    `('c${i}', ${t0 + (i + 1) * 60_000}::BIGINT, ${t.returnBps}::DOUBLE, ` +
    `${t.adverseBps}::DOUBLE, 'take_profit')`
  );
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    await conn.run(`COPY (SELECT * FROM (VALUES ${rows.join(", ")})
        t(call_id, exit_ts_ms, realized_return_bps, max_adverse_excursion_bps, exit_reason))
      TO '${join(dir, "policy_results.parquet")}' (FORMAT parquet)`);
  } finally {
    conn.disconnectSync();
    db.closeSync();
  }
}

Deno.test("report: NaN and infinite returns are left out of the charts, said", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    // The probe's run: returns 100, NaN, 200, +Infinity, 50; one adverse excursion NaN.
    await writeRunWithReturns(root, "nan-1", [
      { returnBps: "100", adverseBps: "-10" },
      { returnBps: "'NaN'", adverseBps: "'NaN'" },
      { returnBps: "200", adverseBps: "-20" },
      { returnBps: "'Infinity'", adverseBps: "-5" },
      { returnBps: "50", adverseBps: "-1" },
    ]);
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const out = join(dir, "report.html");
    const report = await runLedger(["report", "nan-1", "--root", root, "--out", out], {
      signal: AbortSignal.timeout(REPORT_MS_MAX),
    });
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(out);
    const charts = chartData(html);
    const equity = charts["run-0-equity"] as { series: { t: number[]; v: number[] }[] };
    // The curve over the three finite returns, at their exit times (minutes 1, 3 and 5).
    assert.deepEqual(equity.series[0].v, [100, 300, 350]);
    assert.deepEqual(equity.series[0].t, [0, 120, 240]);
    const counted = (key: string) =>
      (charts[key] as { bins: { count: number }[] }).bins.reduce((sum, b) => sum + b.count, 0);
    assert.equal(counted("run-0-returns"), 3);
    assert.equal(counted("run-0-adverse"), 4);
    assert.ok(html.includes("cumulative return by exit time, 5 trades"));
    assert.ok(
      html.includes(
        `<p class="muted">2 trades without a finite return are not drawn in the curve or the ` +
          `histogram.</p>`,
      ),
      "the page says which trades the curve leaves out",
    );
    assert.ok(
      html.includes(
        `<p class="muted">1 trade without a finite max adverse excursion is not drawn in the ` +
          `histogram.</p>`,
      ),
    );
    // `ledger show`'s equity line, summed in SQL, said "NaN bps over 5 calls".
    const shown = await runLedger(["show", "nan-1", "--root", root]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(
      shown.stdout,
      /^equity +\S+ {2}\+350 bps over 3 calls \(2 trades without a finite return left out\)$/m,
    );
  });
});
