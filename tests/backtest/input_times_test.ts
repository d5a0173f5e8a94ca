/**
 * Times in calls and candles files read in the forms `--from`/`--to` take
 * (RFC 3339's lowercase `t`/`z`, no seconds, `+hh:mm` after hh:mm), DuckDB's
 * special words (`epoch`) are not times, and a date before 1973-03-03 is
 * refused as too early, quoted as written, not called epoch seconds
 * (audit 4, time F2).
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { loadCalls, openDataSession } from "../../backtest/data.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

async function alertMs(dir: string, alertTs: string): Promise<number> {
  const path = `${dir}/calls.csv`;
  await Deno.writeTextFile(path, `call_id,caller,mint,chain,alert_ts\nc1,k,M,solana,${alertTs}\n`);
  const s = await openDataSession();
  try {
    const { calls } = await loadCalls(s.conn, path);
    return calls[0].alertTsMs;
  } finally {
    s.close();
  }
}

Deno.test("calls: alert_ts in the forms the time flags take", async (t) => {
  const at = Date.UTC(2026, 2, 8, 6, 30);
  const cases: [string, number][] = [
    ["2026-03-08T06:30Z", at],
    ["2026-03-08t06:30:00z", at],
    ["2026-03-08t06:30z", at],
    ["2026-03-08T06:30+05:30", at - 330 * 60_000],
    ["2026-03-08 06:30", at],
    ["2026-03-08T06:30:00.250Z", at + 250],
    [String(at), at],
  ];
  await withTempDir(async (dir) => {
    for (const [text, ms] of cases) {
      await t.step(text, async () => equal(await alertMs(dir, text), ms));
    }
  });
});

Deno.test("calls: a word or a time before 1973-03-03 is refused for what it is", async (t) => {
  const cases: [string, RegExp][] = [
    ["epoch", /has alert_ts "epoch", which is neither ISO-8601 nor epoch milliseconds$/],
    [
      "1972-06-01T00:00:00Z",
      /has alert_ts "1972-06-01T00:00:00Z", which is before 1973-03-03T09:46:40\.000Z, the earliest time read/,
    ],
    [
      "1969-12-31t23:59:59z",
      /has alert_ts "1969-12-31t23:59:59z", which is before 1973-03-03T09:46:40\.000Z/,
    ],
    ["1772951400", /has alert_ts 1772951400, which looks like epoch seconds/],
  ];
  await withTempDir(async (dir) => {
    for (const [text, pattern] of cases) {
      await t.step(text, async () => {
        let message = "";
        try {
          await alertMs(dir, text);
        } catch (err) {
          message = err instanceof Error ? err.message : String(err);
        }
        match(message, pattern);
      });
    }
  });
});

Deno.test("candles: a ts before 1973-03-03 is refused as too early, not epoch seconds", async () => {
  await withTempDir(async (dir) => {
    const calls = `${dir}/calls.csv`;
    const candles = `${dir}/candles.csv`;
    await Deno.writeTextFile(
      candles,
      "mint,ts,open,high,low,close,volume\nM,1972-06-01t00:00z,1,1,1,1,1\n",
    );
    await Deno.writeTextFile(
      calls,
      "call_id,caller,mint,chain,alert_ts\nc1,k,M,solana,2026-03-08\n",
    );
    const r = await runLedger([
      "backtest",
      "path-only",
      "--root",
      `${dir}/root`,
      "--no-index",
      "--calls",
      calls,
      "--candles",
      candles,
    ]);
    equal(r.code, 1, r.stderr);
    match(
      r.stderr.trim(),
      /^ledger backtest: Candles file \S+ has ts "1972-06-01t00:00z" \(mint M\), which is before 1973-03-03T09:46:40\.000Z/,
    );
  });
});

Deno.test("a time in epoch micro- or nanoseconds is refused, not read as ms", async (t) => {
  const at = Date.UTC(2026, 2, 8, 6, 30);
  await withTempDir(async (dir) => {
    await t.step("alert_ts in µs", async () => {
      let message = "";
      try {
        await alertMs(dir, `${at}000`);
      } catch (err) {
        message = err instanceof Error ? err.message : String(err);
      }
      match(
        message,
        new RegExp(
          `has alert_ts ${at}000, which as epoch milliseconds is past 9999-12-31T23:59:59\\.999Z ` +
            "\\(epoch microseconds or nanoseconds\\?\\); epoch milliseconds are expected$",
        ),
      );
    });
    for (const [unit, zeros] of [["µs", "000"], ["ns", "000000"]]) {
      await t.step(`candles ts in ${unit}`, async () => {
        const calls = `${dir}/calls.csv`;
        const candles = `${dir}/candles.csv`;
        await Deno.writeTextFile(
          calls,
          `call_id,caller,mint,chain,alert_ts\nc1,k,M,solana,${at}\n`,
        );
        const rows = [0, 1, 2].map((m) => `M,${at + (m - 1) * 60_000}${zeros},1,1,1,1,1`);
        await Deno.writeTextFile(
          candles,
          `mint,ts,open,high,low,close,volume\n${rows.join("\n")}\n`,
        );
        const r = await runLedger([
          "backtest",
          "path-only",
          "--root",
          `${dir}/root`,
          "--no-index",
          "--calls",
          calls,
          "--candles",
          candles,
        ]);
        equal(r.code, 1, r.stderr);
        match(
          r.stderr.trim(),
          new RegExp(
            `Candles file \\S+ has ts ${at + 60_000}${zeros} \\(mint M\\), which as epoch ` +
              "milliseconds is past 9999-12-31",
          ),
        );
      });
    }
  });
});
