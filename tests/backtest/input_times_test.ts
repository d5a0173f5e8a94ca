/**
 * Times in calls and candles files read in the forms `--from`/`--to` take
 * (RFC 3339's lowercase `t`/`z`, no seconds, `+hh:mm` after hh:mm), DuckDB's
 * special words (`epoch`) are not times, and a date before 1973-03-03 is
 * refused as too early, quoted as written, not called epoch seconds
 * (audit 4, time F2), and an alert finer than a millisecond is the next
 * whole one, as `--from`/`--to` read it (probe 20, item 10).
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { loadCalls, openCandles, openDataSession } from "../../backtest/data.ts";
import { timeFlag } from "../../cli/backtest.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

/** `ledger backtest path-only --root ROOT --no-index FLAGS...` as a child process. */
function pathOnly(root: string, ...flags: string[]) {
  return runLedger(["backtest", "path-only", "--root", root, "--no-index", ...flags]);
}

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
    const r = await pathOnly(`${dir}/root`, "--calls", calls, "--candles", candles);
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
        const r = await pathOnly(`${dir}/root`, "--calls", calls, "--candles", candles);
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

Deno.test("calls: an alert_ts finer than a millisecond is the next whole one, as --from/--to read it", async (t) => {
  const at = Date.UTC(2026, 0, 1, 22, 14);
  // [alert_ts, its ms]: the flags' rule (timeFlag) must give the same ms for every form.
  const cases: [string, number][] = [
    ["2026-01-01T22:14:00.000001Z", at + 1], // a probe: anchored 1 µs before its alert
    ["2026-01-01T22:14:00.0000001Z", at + 1], // past DuckDB's microseconds
    ["2026-01-01T22:14:00.000999Z", at + 1],
    ["2026-01-01T22:14:00.001000Z", at + 1], // whole: not moved
    ["2026-01-01T22:14:00.250Z", at + 250],
    ["2026-01-01t22:14:00.0005z", at + 1],
    ["2026-01-02T03:44:00.000001+05:30", at + 1],
    ["2026-01-01 22:14:00.000001", at + 1],
    ["2026-01-01T22:14Z", at],
  ];
  await withTempDir(async (dir) => {
    for (const [text, ms] of cases) {
      await t.step(text, async () => {
        equal(await alertMs(dir, text), ms);
        equal(timeFlag({ from: text }, "from"), ms);
      });
    }
    await t.step("a Parquet TIMESTAMP or TIMESTAMP_NS alert_ts", async () => {
      const s = await openDataSession();
      try {
        for (const type of ["TIMESTAMP", "TIMESTAMP_NS"]) {
          const path = `${dir}/calls_${type}.parquet`;
          await s.conn.run(
            `COPY (SELECT 'c1' AS call_id, 'k' AS caller, 'M' AS mint, 'solana' AS chain,
              CAST('2026-01-01 22:14:00.000001' AS ${type}) AS alert_ts) TO '${path}' (FORMAT parquet)`,
          );
          const { calls } = await loadCalls(s.conn, path);
          equal(calls[0].alertTsMs, at + 1, type);
        }
      } finally {
        s.close();
      }
    });
    await t.step(
      "the anchor is the first candle at or after the alert, not the one 1 µs before",
      async () => {
        const calls = `${dir}/calls.csv`;
        const candles = `${dir}/candles.csv`;
        await Deno.writeTextFile(
          calls,
          "call_id,caller,mint,chain,alert_ts\nk4,amy,KK,s,2026-01-01T22:14:00.000001Z\n",
        );
        await Deno.writeTextFile(
          candles,
          `mint,ts,open,high,low,close,volume\nKK,${at},1,1,1,1,1\nKK,${at + 60_000},2,2,2,2,1\n`,
        );
        const r = await pathOnly(`${dir}/root`, "--json", "--calls", calls, "--candles", candles);
        equal(r.code, 0, r.stderr);
        // Anchored on the 22:15 candle: 60 s after the candle at 22:14:00.000, less the 1 ms.
        equal(JSON.parse(r.stdout).summary.entry_delay_ms_max, 59_999);
      },
    );
  });
});

// A probe: pandas writes an epoch-ms column holding a NaN as `1767225600000.0`; the candles CSV
// and a calls JSONL number took it, a calls CSV refused it.
Deno.test("calls: epoch ms written with a fraction, as pandas writes it", async (t) => {
  const at = Date.UTC(2026, 0, 1);
  await withTempDir(async (dir) => {
    await t.step("whole", async () => equal(await alertMs(dir, `${at}.0`), at));
    await t.step("finer than a ms: the next whole one", async () => {
      equal(await alertMs(dir, `${at}.25`), at + 1);
    });
  });
});

/** Candles of mint Z, one a minute from 2026-01-01, `ts` as `tsOf(i)` writes it; their ts in ms. */
async function mixedTimes(
  path: string,
  rows: number,
  tsOf: (i: number, ms: number) => string | number,
): Promise<number[]> {
  const t0 = Date.UTC(2026, 0, 1);
  const jsonl = path.endsWith(".jsonl");
  const lines = jsonl ? [] : ["mint,ts,open,high,low,close,volume"];
  for (let i = 0; i < rows; i++) {
    const ts = tsOf(i, t0 + i * 60_000);
    const row = { mint: "Z", ts, open: 1, high: 1.01, low: 0.99, close: 1, volume: 5 };
    lines.push(jsonl ? JSON.stringify(row) : Object.values(row).join(","));
  }
  await Deno.writeTextFile(path, lines.join("\n") + "\n");
  return Array.from({ length: rows }, (_, i) => t0 + i * 60_000);
}

// A probe: the reader typed `ts` from its sample, so a file of epoch ms whose ISO times came after
// the sample failed ("not a number", or "no ts" the other way round), and the same rows near the
// top passed: each row's time is now read from its own text.
Deno.test("candles: epoch ms and ISO times in one file read the same wherever they are", async (t) => {
  const rows = 30_000; // past DuckDB's sample of 20,480 rows
  const iso = (ms: number) => new Date(ms).toISOString().replace(".000Z", "Z");
  await withTempDir(async (dir) => {
    for (const ext of ["csv", "jsonl"]) {
      for (
        const [name, tsOf] of [
          ["epoch ms, then ISO", (i: number, ms: number) => i < rows - 10 ? ms : iso(ms)],
          ["ISO, then epoch ms", (i: number, ms: number) => i < rows - 10 ? iso(ms) : ms],
        ] as const
      ) {
        await t.step(`${ext}: ${name}`, async () => {
          const path = `${dir}/candles.${ext}`;
          const expected = await mixedTimes(path, rows, tsOf);
          const s = await openDataSession();
          try {
            await openCandles(s.conn, path);
            const got = (await s.conn.runAndReadAll(
              "SELECT ts_ms::DOUBLE AS ms FROM candles ORDER BY ts_ms",
            )).getRowObjectsJS().map((r) => Number(r.ms));
            equal(got.length, rows);
            equal(got.every((ms, i) => ms === expected[i]), true);
          } finally {
            s.close();
          }
        });
      }
    }
  });
});

Deno.test("calls: a JSONL alert_ts of epoch ms, then ISO past the sample, reads as both", async () => {
  const t0 = Date.UTC(2026, 0, 1);
  const rows = 30_000;
  await withTempDir(async (dir) => {
    const path = `${dir}/calls.jsonl`;
    const lines = Array.from({ length: rows }, (_, i) =>
      JSON.stringify({
        call_id: `c${i}`,
        caller: "k",
        mint: "M",
        chain: "solana",
        alert_ts: i < rows - 10 ? t0 + i : new Date(t0 + i).toISOString(),
      }));
    await Deno.writeTextFile(path, lines.join("\n") + "\n");
    const s = await openDataSession();
    try {
      const { calls } = await loadCalls(s.conn, path);
      equal(calls.length, rows);
      equal(calls.every((c) => c.alertTsMs === t0 + Number(c.callId.slice(1))), true);
    } finally {
      s.close();
    }
  });
});

// A review: prices that were whole numbers in the reader's sample typed the column as integers,
// and a later 1.5 read as 2, without a word (CSV and JSON Lines alike); and once `ts` was read as
// text, epoch ms written with an exponent (which the sniffed number column took) was refused.
Deno.test("candles: a price past the sample keeps its fraction; ts with an exponent reads", async (t) => {
  const rows = 30_000; // past DuckDB's sample of 20,480 rows
  await withTempDir(async (dir) => {
    for (const ext of ["csv", "jsonl"]) {
      await t.step(ext, async () => {
        const path = `${dir}/prices.${ext}`;
        const t0 = Date.UTC(2026, 0, 1);
        const lines = ext === "csv" ? ["mint,ts,open,high,low,close,volume"] : [];
        for (let i = 0; i < rows; i++) {
          const last = i === rows - 1;
          const row = {
            mint: "Z",
            ts: last && ext === "csv" ? "1.7672256E+12" : t0 + i * 60_000,
            open: last ? 1.5 : 1,
            high: last ? 2.5 : 2,
            low: 1,
            close: last ? 1.25 : 1,
            volume: last ? 0.5 : 5,
          };
          lines.push(ext === "csv" ? Object.values(row).join(",") : JSON.stringify(row));
        }
        await Deno.writeTextFile(path, lines.join("\n") + "\n");
        const s = await openDataSession();
        try {
          await openCandles(s.conn, path);
          const last = (await s.conn.runAndReadAll(
            `SELECT ts_ms::DOUBLE AS ts, open, high, close, volume FROM candles
              WHERE open <> 1 ORDER BY ts_ms`,
          )).getRowObjectsJS();
          equal(
            JSON.stringify(last),
            JSON.stringify([{
              ts: ext === "csv" ? 1767225600000 : t0 + (rows - 1) * 60_000,
              open: 1.5,
              high: 2.5,
              close: 1.25,
              volume: 0.5,
            }]),
          );
        } finally {
          s.close();
        }
      });
    }
  });
});

// A probe: DuckDB's cast read a zone name (`EST`), and then read the naive times of the rows
// after it in that zone (5 h off, exit 0); it took `+25:00`, which `--from` refuses as a typo.
Deno.test("calls: a zone name or an offset no clock uses is refused; +00 and UTC read", async (t) => {
  const at = Date.UTC(2026, 0, 1);
  const refused = [
    "2025-12-31 19:00:00 EST",
    "2026-01-01 00:00:00 America/New_York",
    "2026-01-01T00:00:00+25:00",
    "2026-01-01T00:00:00+14:60",
    "2026-01-01T00:00:00 +00:00",
  ];
  const read: [string, number][] = [
    ["2026-01-01 00:00:00+00", at], // DuckDB and PostgreSQL write an offset of hours alone
    ["2026-01-01 05:00:00+05", at],
    ["2026-01-01 00:00:00 UTC", at], // as BigQuery writes it
    ["2026-01-01T14:00:00+14:00", at],
    ["2025-12-31T12:00:00-12:00", at],
  ];
  await withTempDir(async (dir) => {
    for (const text of refused) {
      await t.step(`refused: ${text}`, async () => {
        let message = "";
        try {
          await alertMs(dir, text);
        } catch (err) {
          message = err instanceof Error ? err.message : String(err);
        }
        match(message, /which is neither ISO-8601 nor epoch milliseconds$/);
      });
    }
    for (const [text, ms] of read) {
      await t.step(`read: ${text}`, async () => equal(await alertMs(dir, text), ms));
    }
    await t.step(
      "a candles file: the zone-named row is refused, not the rows after it moved",
      async () => {
        const candles = `${dir}/zone_candles.csv`;
        const calls = `${dir}/zone_calls.csv`;
        await Deno.writeTextFile(
          candles,
          "mint,ts,open,high,low,close,volume\nM,2025-12-31 19:00:00 EST,1,1,1,1,1\n" +
            "M,2026-01-01 00:01:00,2,2,2,2,1\nM,2026-01-01 00:02:00,3,3,3,3,1\n",
        );
        await Deno.writeTextFile(
          calls,
          "call_id,caller,mint,chain,alert_ts\nq,x,M,s,2026-01-01T00:01:00Z\n",
        );
        const r = await pathOnly(`${dir}/root`, "--calls", calls, "--candles", candles);
        equal(r.code, 1, r.stderr);
        match(r.stderr, /ts "2025-12-31 19:00:00 EST": neither ISO-8601 nor epoch ms/);
      },
    );
  });
});

// A probe: a cast of a fraction rounds, so a candle at `...599999.6`, 0.4 ms before its alert,
// became its anchor; a time finer than a millisecond is the millisecond it falls in.
Deno.test("candles: a ts with a fraction of a millisecond is the millisecond it falls in", async (t) => {
  const at = Date.UTC(2026, 0, 1);
  await withTempDir(async (dir) => {
    const calls = `${dir}/calls.csv`;
    await Deno.writeTextFile(calls, `call_id,caller,mint,chain,alert_ts\nc,x,M,s,${at}\n`);
    const rows = [[`${at - 1}.6`, 1], [at + 60_000, 2], [at + 120_000, 2]];
    const files: [string, string][] = [
      [
        "csv",
        "mint,ts,open,high,low,close,volume\n" +
        rows.map(([ts, p]) => `M,${ts},${p},${p},${p},${p},1`).join("\n") + "\n",
      ],
      [
        "jsonl",
        rows.map(([ts, p]) =>
          `{"mint":"M","ts":${ts},"open":${p},"high":${p},"low":${p},"close":${p},"volume":1}`
        ).join("\n") + "\n",
      ], // a JSON number: a DOUBLE column
    ];
    for (const [ext, text] of files) {
      await t.step(ext, async () => {
        const candles = `${dir}/candles.${ext}`;
        await Deno.writeTextFile(candles, text);
        const r = await pathOnly(
          `${dir}/root-${ext}`,
          "--json",
          "--calls",
          calls,
          "--candles",
          candles,
        );
        equal(r.code, 0, r.stderr);
        // Anchored on the candle a minute after the alert, not the one that opened before it.
        equal(JSON.parse(r.stdout).summary.entry_delay_ms_max, 60_000);
      });
    }
  });
});

// A probe: `--from 1772953200`, epoch seconds of 2026, was read as a time in 1970 (every call
// kept, exit 0), where a data file refuses the same number.
Deno.test("--from and --to in epoch seconds are refused, as in a data file", async () => {
  await withTempDir(async (dir) => {
    const r = await pathOnly(`${dir}/root`, "--from", "1772953200");
    equal(r.code, 2, r.stderr);
    equal(
      r.stderr,
      'ledger backtest: --from "1772953200" looks like epoch seconds (as epoch ms it is before ' +
        "1973-03-03T09:46:40.000Z); epoch milliseconds are expected\n",
    );
    await Deno.stat(`${dir}/root`).then(
      () => Promise.reject(new Error("the refused run wrote its root")),
      (err) => equal(err instanceof Deno.errors.NotFound, true),
    );
  });
});
