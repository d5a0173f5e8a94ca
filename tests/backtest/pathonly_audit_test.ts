/**
 * Audit of the path-only backtest on hand-made inputs, through the real
 * `ledger backtest path-only` process. A call whose mint has a candle at or
 * after its alert (so counted in `calls_covered`) but no anchor price (no
 * bar at or after the alert once resampled; an anchor close of 0, now
 * refused with the candles file) had no
 * row, no named count in `run.completed`, and the command's "with candles N"
 * still counted it while the rates were over one call fewer.
 *
 * @module
 */
import { doesNotMatch, match, strictEqual as equal } from "node:assert/strict";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

/** 2026-01-01T00:00:00Z. */
const T_MS = Date.UTC(2026, 0, 1);
/** One minute, ms. */
const MINUTE_MS = 60_000;
const CANDLES_HEADER = "mint,ts,open,high,low,close,volume";
const CALLS_HEADER = "call_id,caller,mint,chain,alert_ts";

/** A candles CSV row of `mint` at `minute` after T. */
function candle(mint: string, minute: number, o: number, h: number, l: number, c: number) {
  return `${mint},${T_MS + minute * MINUTE_MS},${o},${h},${l},${c},1`;
}

async function pathOnly(dir: string, files: { calls: string; candles: string }, extra: string[]) {
  await Deno.writeTextFile(`${dir}/calls.csv`, files.calls);
  await Deno.writeTextFile(`${dir}/candles.csv`, files.candles);
  const root = `${dir}/root`;
  const r = await runLedger([
    "backtest",
    "path-only",
    "--root",
    root,
    "--no-index",
    "--calls",
    `${dir}/calls.csv`,
    "--candles",
    `${dir}/candles.csv`,
    "--run-id",
    "po",
    ...extra,
  ]);
  equal(r.code, 0, r.stderr);
  return { ...r, runDir: `${root}/artifacts/runs/po` };
}

async function callIds(parquet: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT call_id FROM read_parquet('${parquet}') ORDER BY call_id`,
    );
    return reader.getRowObjectsJS().map((r) => String(r.call_id));
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

Deno.test("path-only: a covered call without an anchor price is counted and said", async (t) => {
  await t.step("an anchor close of 0 is refused, not skipped", async () => {
    await withTempDir(async (dir) => {
      // Mint Z: minute 0 closes at 0, minute 1 at 1. A price of 0 was accepted input (z0
      // skipped, no anchor price); it is refused now, as NaN and negative prices are: a
      // missing bar filled with zeros (a probe) made a -10000 bps trade or drawdown, exit 0.
      await Deno.writeTextFile(
        `${dir}/calls.csv`,
        `${CALLS_HEADER}\nz0,alice,Z,sol,${T_MS}\nz1,alice,Z,sol,${T_MS + MINUTE_MS}\n`,
      );
      await Deno.writeTextFile(
        `${dir}/candles.csv`,
        `${CANDLES_HEADER}\n${candle("Z", 0, 1, 1, 0, 0)}\n${candle("Z", 1, 1, 1, 1, 1)}\n`,
      );
      const root = `${dir}/root`;
      const inputs = ["--calls", `${dir}/calls.csv`, "--candles", `${dir}/candles.csv`];
      const policy = ["--policy", '{"type":"fixed_stop","stopPct":0.5}'];
      for (const [kind, extra] of [["path-only", []], ["policy", policy]] as const) {
        const runId = `po-${kind}`;
        const r = await runLedger([
          ...["backtest", kind, "--root", root, "--no-index", ...inputs, "--run-id", runId],
          ...extra,
        ]);
        equal(r.code, 1, `${kind}: ${r.stderr}`);
        equal(r.stdout, "", kind);
        equal(
          r.stderr,
          `ledger backtest: Candles file ${dir}/candles.csv has 1 rows with a price that is NaN, ` +
            "infinite, 0 or negative (first: mint Z at 2026-01-01T00:00:00.000Z, low 0) " +
            `(run ${runId} failed in phase slice)\n`,
        );
        // No outputs: the run directory holds only the failed run's manifest.
        const files = [];
        for await (const e of Deno.readDir(`${root}/artifacts/runs/${runId}`)) files.push(e.name);
        equal(files.join(), "manifest.json", kind);
      }
    });
  });
  await t.step("no 5m bar at or after the alert", async () => {
    await withTempDir(async (dir) => {
      // Mint R: 1m candles at minutes 0..4, high 1.0, 1.1, .., 1.4, low 0.9, close 1.
      // --interval 5m makes them one bar at minute 0: open 1, high 1.4, low 0.9, close 1.
      // r0 (alert 0:00): anchor the 5m bar at 0, p0 1: peak 1.4, dd -1000 bps.
      // r1 (alert 3:20): covered (the last 1m candle, 4:00, is after it), but the only 5m
      // bar opens at 0:00, before it: no anchor, skipped.
      const rows = [0, 1, 2, 3, 4].map((m) => candle("R", m, 1, 1 + m / 10, 0.9, 1));
      const r = await pathOnly(dir, {
        calls: `${CALLS_HEADER}\nr0,bob,R,sol,${T_MS}\nr1,bob,R,sol,${T_MS + 200_000}\n`,
        candles: `${CANDLES_HEADER}\n${rows.join("\n")}\n`,
      }, ["--interval", "5m"]);
      const done = JSON.parse(await Deno.readTextFile(`${r.runDir}/manifest.json`));
      equal(done.summary.calls_covered, 2);
      equal(done.summary.calls_computed, 1);
      equal(done.summary.calls_skipped, 1);
      equal(done.summary.median_peak_multiple, 1.4);
      equal(done.summary.median_dd_bps, -1000);
      equal((await callIds(`${r.runDir}/path_metrics.parquet`)).join(), "r0");
      match(r.stdout, /computed: 1 \(and 1 with candles but no anchor price, left out/);
    });
  });
  await t.step("every covered call computed: nothing more said", async () => {
    await withTempDir(async (dir) => {
      const r = await pathOnly(dir, {
        calls: `${CALLS_HEADER}\nz1,alice,Z,sol,${T_MS + MINUTE_MS}\n`,
        candles: `${CANDLES_HEADER}\n${candle("Z", 0, 1, 1, 0, 0)}\n${
          candle("Z", 1, 1, 1, 1, 1)
        }\n`,
      }, []);
      const done = JSON.parse(await Deno.readTextFile(`${r.runDir}/manifest.json`));
      equal(done.summary.calls_skipped, 0);
      match(r.stdout, /computed: 1\n/);
    });
  });
});

Deno.test("path-only: the duplicate-candle error does not advise a flag that cannot help", async () => {
  await withTempDir(async (dir) => {
    // Mint A has two rows at minute 0 in a file without an interval column. The error said
    // "pass --interval if it mixes intervals", but the check runs on the rows --interval
    // selects or resamples, so with --interval 5m (or 1m) the run failed the same way.
    await Deno.writeTextFile(`${dir}/calls.csv`, `${CALLS_HEADER}\na1,alice,A,sol,${T_MS}\n`);
    const rows = [
      candle("A", 0, 1, 1, 1, 1),
      candle("A", 0, 1, 2, 1, 1),
      candle("A", 1, 1, 1, 1, 1),
    ];
    await Deno.writeTextFile(`${dir}/candles.csv`, `${CANDLES_HEADER}\n${rows.join("\n")}\n`);
    for (const interval of ["1m", "5m"]) {
      const r = await runLedger([
        "backtest",
        "path-only",
        "--root",
        `${dir}/root`,
        "--no-index",
        "--calls",
        `${dir}/calls.csv`,
        "--candles",
        `${dir}/candles.csv`,
        "--interval",
        interval,
      ]);
      equal(r.code, 1, r.stderr);
      match(r.stderr, /has 1 duplicate \(mint, ts\) candles \(first: mint A at 2026-01-01T00:00/);
      doesNotMatch(r.stderr, /pass --interval/);
      match(r.stderr, /a file that mixes intervals needs an interval column/);
    }
  });
});
