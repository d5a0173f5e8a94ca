/**
 * The interval of candles without an `interval` column, read from the rows:
 * the longest interval every candle opens on, up to the shortest step (a
 * probe: 1m candles with a minute missing between each were "2m" candles,
 * and `--interval 1m` or `5m` refused); with one candle a mint (no step),
 * one that does not open on the asked interval is resampled to it (a probe:
 * a 1m candle at 00:18 was entered as a "5m" bar).
 *
 * @module
 */
import { deepStrictEqual as deepEqual, rejects, strictEqual as equal } from "node:assert/strict";
import {
  coverCalls,
  type Interval,
  loadCalls,
  openCandles,
  openDataSession,
  sliceCandles,
} from "../../backtest/data.ts";
import { withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 1);
const MINUTE = 60_000;

/** Slice candles at `ts` (ms) of mint M for one call at `alertMs`: the slice and its rows' ts. */
async function slice(
  dir: string,
  ts: readonly number[],
  alertMs: number,
  interval?: Interval,
): Promise<{ interval: string; resampledFrom: string | null; ts: number[] }> {
  const callsPath = `${dir}/calls.csv`;
  const candlesPath = `${dir}/candles.csv`;
  await Deno.writeTextFile(callsPath, `call_id,caller,mint,chain,alert_ts\nc,x,M,s,${alertMs}\n`);
  await Deno.writeTextFile(
    candlesPath,
    "mint,ts,open,high,low,close,volume\n" + ts.map((t) => `M,${t},1,1,1,1,1`).join("\n") + "\n",
  );
  const s = await openDataSession();
  try {
    const { calls } = await loadCalls(s.conn, callsPath);
    const source = await openCandles(s.conn, candlesPath);
    await coverCalls(s.conn, calls);
    const got = await sliceCandles(s.conn, source, interval === undefined ? {} : { interval });
    const rows = (await s.conn.runAndReadAll("SELECT ts_ms FROM slice ORDER BY ts_ms"))
      .getRowObjectsJS().map((r) => Number(r.ts_ms));
    return { interval: got.interval, resampledFrom: got.resampledFrom, ts: rows };
  } finally {
    s.close();
  }
}

Deno.test("candle interval: 1m candles with missing minutes are 1m candles", async (t) => {
  const everyOther = Array.from({ length: 10 }, (_, i) => T0 + 2 * i * MINUTE);
  await withTempDir(async (dir) => {
    await t.step("no --interval", async () => {
      const got = await slice(dir, everyOther, T0);
      equal(got.interval, "1m");
      equal(got.resampledFrom, null);
    });
    await t.step("--interval 1m", async () => {
      equal((await slice(dir, everyOther, T0, "1m")).ts.length, 10);
    });
    await t.step("--interval 5m: resampled from 1m", async () => {
      const got = await slice(dir, everyOther, T0, "5m");
      deepEqual([got.interval, got.resampledFrom], ["5m", "1m"]);
      deepEqual(got.ts, [T0, T0 + 5 * MINUTE, T0 + 10 * MINUTE, T0 + 15 * MINUTE]);
    });
    await t.step("5m candles with one missing stay 5m", async () => {
      const fives = [0, 5, 15, 20].map((m) => T0 + m * MINUTE);
      deepEqual((await slice(dir, fives, T0)).interval, "5m");
      deepEqual((await slice(dir, fives, T0, "15m")).resampledFrom, "5m");
    });
    await t.step("30 s candles: the step, as before", async () => {
      const halves = Array.from({ length: 4 }, (_, i) => T0 + i * 30_000);
      equal((await slice(dir, halves, T0)).interval, "30000ms");
    });
  });
});

Deno.test("candle interval: one candle a mint is resampled when it opens off the interval", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("a candle at 00:18 for --interval 5m: the 00:15 bar", async () => {
      const got = await slice(dir, [T0 + 18 * MINUTE], T0 + 18 * MINUTE, "5m");
      // Its bar opened at 00:15, before the alert: no bar of the slice is its entry.
      deepEqual([got.interval, got.resampledFrom, got.ts], ["5m", "unknown", [T0 + 15 * MINUTE]]);
    });
    await t.step("a candle at 00:20 for --interval 5m: kept as the 00:20 bar", async () => {
      const got = await slice(dir, [T0 + 20 * MINUTE], T0 + 18 * MINUTE, "5m");
      deepEqual([got.interval, got.resampledFrom, got.ts], ["5m", null, [T0 + 20 * MINUTE]]);
    });
  });
});

Deno.test("candle interval column: each mint resampled from its own finer rows", async () => {
  await withTempDir(async (dir) => {
    const callsPath = `${dir}/calls.csv`;
    const candlesPath = `${dir}/candles.csv`;
    await Deno.writeTextFile(
      callsPath,
      `call_id,caller,mint,chain,alert_ts\n` + ["A", "B", "C"].map((m) => `${m},x,${m},s,${T0}`)
        .join("\n") +
        "\n",
    );
    // A: 1m and 5m rows (the 5m ones priced 5, so the pick shows); B: 1m rows only (priced by
    // minute); C: 15m rows. A probe: --interval 15m took 5m rows for every mint, and B had none.
    const rows = ["mint,interval,ts,open,high,low,close,volume"];
    for (let m = 0; m < 30; m++) {
      rows.push(`A,1m,${T0 + m * MINUTE},1,1,1,1,1`);
      rows.push(`B,1m,${T0 + m * MINUTE},${m + 1},${m + 2},${m + 1},${m + 1},1`);
      if (m % 5 === 0) rows.push(`A,5m,${T0 + m * MINUTE},5,5,5,5,2`);
      if (m % 15 === 0) rows.push(`C,15m,${T0 + m * MINUTE},7,8,6,7,3`);
    }
    // A row of no mint (no call wants it): it must not hide the others (SQL's NOT IN and NULL).
    rows.push(`,1m,${T0},1,1,1,1,1`);
    await Deno.writeTextFile(candlesPath, rows.join("\n") + "\n");
    const s = await openDataSession();
    try {
      const { calls } = await loadCalls(s.conn, callsPath);
      const source = await openCandles(s.conn, candlesPath, { interval: "15m" });
      await coverCalls(s.conn, calls);
      const got = await sliceCandles(s.conn, source, { interval: "15m" });
      deepEqual([got.interval, got.resampledFrom, got.rows], ["15m", "1m,5m", 6]);
      const bars = (await s.conn.runAndReadAll(
        "SELECT mint, ts_ms, open, high, low, close, volume FROM slice ORDER BY mint, ts_ms",
      )).getRowObjectsJS().map((r) => [
        r.mint,
        (Number(r.ts_ms) - T0) / MINUTE,
        ...[r.open, r.high, r.low, r.close, r.volume].map(Number),
      ]);
      deepEqual(bars, [
        ["A", 0, 5, 5, 5, 5, 6],
        ["A", 15, 5, 5, 5, 5, 6],
        ["B", 0, 1, 16, 1, 15, 15],
        ["B", 15, 16, 31, 16, 30, 15],
        ["C", 0, 7, 8, 6, 7, 3],
        ["C", 15, 7, 8, 6, 7, 3],
      ]);
    } finally {
      s.close();
    }
  });
});

// helper-293: rows labelled `1min`, `1m ` or nothing were neither kept nor resampled under
// --interval: left out in silence, they ended a trade before its take-profit candle.
Deno.test("candle interval column: a row of no known interval is refused with --interval", async () => {
  await withTempDir(async (dir) => {
    const candlesPath = `${dir}/candles.csv`;
    for (const odd of ["1min", "1m ", ""]) {
      const rows = ["mint,interval,ts,open,high,low,close,volume"];
      for (let m = 0; m < 4; m++) rows.push(`A,1m,${T0 + m * MINUTE},1,1,1,1,1`);
      rows.push(`A,${odd},${T0 + 4 * MINUTE},1,1.6,1,1.5,1`);
      await Deno.writeTextFile(candlesPath, rows.join("\n") + "\n");
      const s = await openDataSession();
      try {
        await rejects(
          openCandles(s.conn, candlesPath, { interval: "1m" }),
          (err: Error) => {
            equal(err.name, "InputError");
            equal(
              err.message,
              `Candles file ${candlesPath} has 1 candle whose interval is none of 1m, 5m, 15m, ` +
                `1h (first: ${odd === "" ? "null" : JSON.stringify(odd)}): with --interval each ` +
                "row is kept or left out by its interval; spell it as one of those",
            );
            return true;
          },
        );
      } finally {
        s.close();
      }
    }
  });
});
