/**
 * The report's equity curve is the curve of docs/METRICS.md: trades sorted
 * by exit time, ties in call order (calls sorted by alert time, then call
 * id), equity the running sum of their returns. An audit found ties ordered
 * by call id instead: with two trades closing in the same minute, a call
 * `a1` alerted after `z1` came first, and the report drew a curve through
 * other points than the one `max_drawdown_bps` is measured on.
 *
 * Real processes: `ledger backtest policy` on a hand-worked data set,
 * `ledger rebuild-index`, `ledger report`, then the chart data the page
 * carries.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

/** 2026-01-05T00:00:00Z. */
const T0_MS = Date.UTC(2026, 0, 5);
const MINUTE_MS = 60_000;

/**
 * Three calls, every one entered at p0 = 1 and closed at minute 3:
 * - z1 (alert 0:00, mint P): high 1.5 at minute 3, take-profit +5000 bps;
 * - a1 (alert 0:01, mint Q): low 0.7 at minute 3, stop -2000 bps;
 * - m1 (alert 0:02, mint R): high 1.1 at minute 3, +1000 bps at the end of data.
 * Call order z1, a1, m1: equity 5000, 3000, 4000 (max drawdown -2000).
 * Call id order a1, m1, z1 would draw -2000, -1000, 4000.
 */
async function writeInputs(dir: string): Promise<{ calls: string; candles: string }> {
  const iso = (minute: number) => new Date(T0_MS + minute * MINUTE_MS).toISOString();
  const calls = join(dir, "calls.csv");
  await Deno.writeTextFile(
    calls,
    [
      "call_id,caller,mint,chain,alert_ts",
      `a1,amy,Q,solana,${iso(1)}`,
      `m1,max,R,solana,${iso(2)}`,
      `z1,zoe,P,solana,${iso(0)}`,
    ].join("\n") + "\n",
  );
  const candles = join(dir, "candles.csv");
  const rows: [string, number, number, number, number, number][] = [
    ["P", 0, 1, 1, 1, 1],
    ["P", 1, 1, 1.1, 0.95, 1],
    ["P", 2, 1, 1.1, 0.95, 1],
    ["P", 3, 1, 1.6, 1, 1.2],
    ["Q", 1, 1, 1, 1, 1],
    ["Q", 2, 1, 1.05, 0.9, 1],
    ["Q", 3, 1, 1, 0.6, 0.65],
    ["R", 2, 1, 1, 1, 1],
    ["R", 3, 1, 1.1, 1, 1.1],
  ];
  await Deno.writeTextFile(
    candles,
    [
      "mint,ts,open,high,low,close,volume",
      ...rows.map(([mint, m, o, h, l, c]) => `${mint},${iso(m)},${o},${h},${l},${c},100`),
    ].join("\n") + "\n",
  );
  return { calls, candles };
}

/** The chart data a report page carries. */
function chartData(html: string): Record<string, unknown> {
  const m = html.match(/<script type="application\/json" id="ledger-data">([\s\S]*?)<\/script>/);
  assert.ok(m, "the page carries its chart data");
  return (JSON.parse(m[1]) as { charts: Record<string, unknown> }).charts;
}

/** An equity chart's series: offsets `t` from `t0`, values `v` in bps. */
interface EquitySeries {
  t0: number;
  t: number[];
  v: number[];
}

/**
 * `ledger backtest policy` of `calls` and `candles` as run `runId` under
 * `dir/ledger`, then `rebuild-index` and `report`: the run's summary and the
 * series of its equity chart.
 */
async function equityOf(
  dir: string,
  inputs: { calls: string; candles: string },
  runId: string,
): Promise<{ summary: Record<string, number>; series: EquitySeries }> {
  const root = join(dir, "ledger");
  const policy = JSON.stringify({ type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 });
  const run = await runLedger([
    ...["backtest", "policy", "--root", root, "--calls", inputs.calls, "--candles", inputs.candles],
    ...["--policy", policy, "--run-id", runId, "--no-index", "--json"],
  ]);
  assert.equal(run.code, 0, run.stderr);
  const rebuilt = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  const out = join(dir, "report.html");
  const report = await runLedger(["report", runId, "--root", root, "--out", out]);
  assert.equal(report.code, 0, report.stderr);
  const equity = chartData(await Deno.readTextFile(out))["run-0-equity"] as {
    series: EquitySeries[];
  };
  return { summary: JSON.parse(run.stdout).summary, series: equity.series[0] };
}

Deno.test("report: trades closing at the same time keep call order in the equity curve", async () => {
  await withTempDir(async (dir) => {
    const { summary, series } = await equityOf(dir, await writeInputs(dir), "ties-1");
    assert.equal(summary.calls, 3);
    assert.equal(summary.max_drawdown_bps, -2000);
    // Every trade closes at minute 3: one exit time, the curve in call order z1, a1, m1.
    assert.equal(series.t0, T0_MS + 3 * MINUTE_MS);
    assert.deepEqual(series.t, [0, 0, 0]);
    assert.deepEqual(series.v, [5000, 3000, 4000]);
    // The drawdown of the curve drawn is the summary's.
    let peak = 0;
    let drawdown = 0;
    for (const v of series.v) {
      peak = Math.max(peak, v);
      drawdown = Math.min(drawdown, v - peak);
    }
    assert.equal(drawdown, summary.max_drawdown_bps);
  });
});

Deno.test("report and show: an equity curve of returns under a basis point is to 0.01 bps", async () => {
  await withTempDir(async (dir) => {
    const iso = (minute: number) => new Date(T0_MS + minute * MINUTE_MS).toISOString();
    // Two calls entered at 1 and sold at the last close: +0.4 bps, then +0.3 bps.
    const calls = join(dir, "calls.csv");
    await Deno.writeTextFile(
      calls,
      `call_id,caller,mint,chain,alert_ts\nc1,amy,P,solana,${iso(0)}\nc2,amy,Q,solana,${iso(1)}\n`,
    );
    const candles = join(dir, "candles.csv");
    await Deno.writeTextFile(
      candles,
      "mint,ts,open,high,low,close,volume\n" +
        `P,${iso(0)},1,1,1,1,100\nP,${iso(1)},1,1.00004,1,1.00004,100\n` +
        `Q,${iso(1)},1,1,1,1,100\nQ,${iso(2)},1,1.00003,1,1.00003,100\n`,
    );
    const { summary, series } = await equityOf(dir, { calls, candles }, "small-1");
    assert.equal(summary.calls, 2);
    // Whole bps drew [0, 1]: the first trade's gain gone, the second's doubled.
    assert.deepEqual(series.v, [0.4, 0.7]);
    // `ledger show`'s equity line says the same total (it said "+1 bps").
    const shown = await runLedger(["show", "small-1", "--root", join(dir, "ledger")]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^equity +\S+ {2}\+0\.7 bps over 2 calls$/m);
  });
});

Deno.test("report: a policy run whose calls never entered says it has no trades", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    // Mint Z's 1m candles end at minute 4 and the call is alerted at minute 3: covered, but at
    // --interval 5m the only bar opens at minute 0, before the alert: no price to enter at.
    // (Candles trading at 0 did this until a price of 0 was refused.)
    const zero = join(dir, "early_candles.csv");
    const iso = (minute: number) => new Date(T0_MS + minute * MINUTE_MS).toISOString();
    await Deno.writeTextFile(
      zero,
      "mint,ts,open,high,low,close,volume\n" +
        [0, 1, 2, 3, 4].map((m) => `Z,${iso(m)},1,1,1,1,100`).join("\n") + "\n",
    );
    const calls = join(dir, "late_calls.csv");
    await Deno.writeTextFile(
      calls,
      `call_id,caller,mint,chain,alert_ts\nz9,amy,Z,solana,${iso(3)}\n`,
    );
    const policy = JSON.stringify({ type: "fixed_stop", stopPct: 0.2 });
    const run = await runLedger([
      ...["backtest", "policy", "--root", root, "--calls", calls, "--candles", zero],
      ...["--policy", policy, "--run-id", "none-1", "--no-index", "--interval", "5m"],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const out = join(dir, "report.html");
    const report = await runLedger(["report", "none-1", "--root", root, "--out", out]);
    assert.equal(report.code, 0, report.stderr);
    const html = await Deno.readTextFile(out);
    assert.match(html, /<h2>No trades<\/h2><p class="muted">None of the run's calls had an entry/);
    assert.equal(chartData(html)["run-0-equity"], undefined, "no empty chart");
  });
});

// helper-290: two calls left out by --max-entry-delay (calls_entry_late: 2, calls_no_candles: 0)
// were said to have "no candle at or after its alert".
Deno.test("report: a run whose entries were all too late says so, from its summary", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const iso = (minute: number) => new Date(T0_MS + minute * MINUTE_MS).toISOString();
    const calls = join(dir, "calls.csv");
    await Deno.writeTextFile(
      calls,
      `call_id,caller,mint,chain,alert_ts\nc1,a,UP,solana,${iso(-10)}\nc2,b,UP,solana,${iso(-5)}\n`,
    );
    const candles = join(dir, "candles.csv");
    await Deno.writeTextFile(
      candles,
      `mint,ts,open,high,low,close,volume\nUP,${iso(0)},1,1,1,1,1\nUP,${iso(1)},1,2,1,2,1\n`,
    );
    const run = await runLedger([
      ...["backtest", "policy", "--root", root, "--calls", calls, "--candles", candles],
      ...["--policy", '{"type":"fixed_stop","stopPct":0.3}', "--max-entry-delay", "1s"],
      ...["--run-id", "late-1", "--no-index"],
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const out = join(dir, "report.html");
    const report = await runLedger(["report", "late-1", "--root", root, "--out", out]);
    assert.equal(report.code, 0, report.stderr);
    assert.match(
      await Deno.readTextFile(out),
      /<h2>No trades<\/h2><p class="muted">None of the run's calls had an entry \(2 calls whose entry was later than --max-entry-delay\)/,
    );
  });
});
