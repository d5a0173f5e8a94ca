/**
 * Test helper: a tiny hand-worked data set (calls and 1m candles written as
 * CSV/JSONL into a temporary directory) and reading a run's events back.
 *
 * @module
 */
import { readLog } from "../../ledger/reader.ts";
import type { LedgerEvent } from "../../ledger/events.ts";

/** 2026-01-05T00:00:00Z, the first candle of the fixtures. */
export const T0_MS = Date.UTC(2026, 0, 5);
/** One minute, ms. */
export const MINUTE_MS = 60_000;

/**
 * Candles, `[mint, minute, open, high, low, close]`:
 * - mint A is the path of `metrics_test.ts` (anchor at minute 1, p0 = 1.0 for
 *   an alert at 0:30): 2x at minute 4, 3x at minute 5, dd -3000 bps, peak 3.2.
 * - mint B falls: a fixed 20% stop fills at 0.8 on minute 1.
 * - mint C has no candles (call c1 is counted by coverage and skipped).
 */
export const CANDLES: readonly (readonly [string, number, number, number, number, number])[] = [
  ["A", 0, 1.0, 1.0, 1.0, 1.0],
  ["A", 1, 1.0, 1.05, 0.98, 1.0],
  ["A", 2, 1.0, 1.08, 0.85, 0.9],
  ["A", 3, 0.9, 1.6, 0.88, 1.5],
  ["A", 4, 1.5, 2.1, 1.4, 2.0],
  ["A", 5, 2.0, 3.2, 0.8, 1.0],
  ["A", 6, 1.0, 1.1, 0.7, 0.9],
  ["B", 0, 1.0, 1.0, 1.0, 1.0],
  ["B", 1, 1.0, 1.1, 0.75, 0.8],
  ["B", 2, 0.8, 0.9, 0.7, 0.85],
];

/** Calls: a1 (alice, mint A, 0:30), b1 (bob, mint B, 0:00), c1 (carol, mint C, no candles). */
export const CALLS = [
  { call_id: "a1", caller: "alice", mint: "A", chain: "solana", alert_ms: T0_MS + 30_000 },
  { call_id: "b1", caller: "bob", mint: "B", chain: "solana", alert_ms: T0_MS },
  { call_id: "c1", caller: "carol", mint: "C", chain: "solana", alert_ms: T0_MS },
] as const;

/** Options for {@linkcode writeFixtures}. */
export interface FixtureOptions {
  /** Calls format. @default {"csv"} */
  callsFormat?: "csv" | "jsonl";
  /** Write alert_ts / ts as epoch ms instead of ISO. @default {false} */
  epochMs?: boolean;
  /** Leave these columns out of the calls file. @default {[]} */
  dropCallColumns?: string[];
  /** Leave these columns out of the candles file. @default {[]} */
  dropCandleColumns?: string[];
}

/** Write the fixtures into `dir`; returns the calls and candles paths. */
export async function writeFixtures(
  dir: string,
  options: FixtureOptions = {},
): Promise<{ calls: string; candles: string }> {
  const time = (ms: number) => options.epochMs ? ms : new Date(ms).toISOString();
  const callCols = ["call_id", "caller", "mint", "chain", "alert_ts"].filter((c) =>
    !(options.dropCallColumns ?? []).includes(c)
  );
  const callRows = CALLS.map((c) =>
    ({ ...c, alert_ts: time(c.alert_ms) }) as Record<string, unknown>
  );
  const calls = `${dir}/calls.${options.callsFormat === "jsonl" ? "jsonl" : "csv"}`;
  if (options.callsFormat === "jsonl") {
    const lines = callRows.map((r) =>
      JSON.stringify(Object.fromEntries(callCols.map((c) => [c, r[c]])))
    );
    await Deno.writeTextFile(calls, lines.join("\n") + "\n");
  } else {
    const lines = [callCols.join(","), ...callRows.map((r) => callCols.map((c) => r[c]).join(","))];
    await Deno.writeTextFile(calls, lines.join("\n") + "\n");
  }
  const candleCols = ["mint", "ts", "open", "high", "low", "close", "volume"].filter((c) =>
    !(options.dropCandleColumns ?? []).includes(c)
  );
  const candleRows = CANDLES.map(([mint, minute, open, high, low, close]) =>
    ({
      mint,
      ts: time(T0_MS + minute * MINUTE_MS),
      open,
      high,
      low,
      close,
      volume: 100,
    }) as Record<string, unknown>
  );
  const candles = `${dir}/candles.csv`;
  const lines = [
    candleCols.join(","),
    ...candleRows.map((r) => candleCols.map((c) => r[c]).join(",")),
  ];
  await Deno.writeTextFile(candles, lines.join("\n") + "\n");
  return { calls, candles };
}

/** The valid events of `runId` in the log under `root`, in log order. */
export async function runEvents(root: string, runId: string): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const record of readLog(root)) {
    if (record.kind === "event" && record.event.run_id === runId) out.push(record.event);
  }
  return out;
}

/** Probe 20's late call: alerted 30 days before its mint's first candle. */
export const LATE_ALERT_MS = 1697407980000;
/** The open time of the first candle of that mint, `QQ`. */
export const LATE_FIRST_CANDLE_MS = 1699999980000;
/** The late call's alert-to-entry delay: exactly 30 days. */
export const LATE_DELAY_MS = LATE_FIRST_CANDLE_MS - LATE_ALERT_MS;

/**
 * Probe 20's data of finding 4 (`/tmp/probe20/d9/`) in `dir`: call `q`
 * (amy) alerted {@linkcode LATE_DELAY_MS} before mint QQ's first candle,
 * and with `onTime` call `r` (bob) alerted a minute before it. Two 1m
 * candles: close 1, then high 1.2 and close 1.15.
 */
export async function writeLateCallFixtures(
  dir: string,
  onTime: boolean,
): Promise<{ calls: string; candles: string }> {
  const calls = `${dir}/calls-${onTime ? 2 : 1}.csv`;
  const candles = `${dir}/candles-qq.csv`;
  await Deno.writeTextFile(
    calls,
    [
      "call_id,caller,mint,chain,alert_ts",
      `q,amy,QQ,s,${LATE_ALERT_MS}`,
      ...(onTime ? [`r,bob,QQ,s,${LATE_FIRST_CANDLE_MS - MINUTE_MS}`] : []),
    ].join("\n") + "\n",
  );
  await Deno.writeTextFile(
    candles,
    [
      "mint,ts,open,high,low,close,volume",
      `QQ,${LATE_FIRST_CANDLE_MS},1,1,1,1,1`,
      `QQ,${LATE_FIRST_CANDLE_MS + MINUTE_MS},1,1.2,1,1.15,1`,
    ].join("\n") + "\n",
  );
  return { calls, candles };
}
