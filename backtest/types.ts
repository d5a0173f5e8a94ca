/**
 * Shared data shapes of the backtests: calls (alerts) and columnar candle
 * series.
 *
 * @module
 */

/**
 * A call: a caller's public pick of a token at a time.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { Call } from "./types.ts";
 * const call: Call = {
 *   callId: "c1", caller: "alice", mint: "MintA", chain: "solana", alertTsMs: 1767607200000,
 * };
 * assert.equal(call.caller, "alice");
 * ```
 */
export interface Call {
  /** Unique id of the call. */
  callId: string;
  /** Who made the call. */
  caller: string;
  /** Token address. */
  mint: string;
  /** Chain name, e.g. `solana`. */
  chain: string;
  /** Alert time, epoch milliseconds UTC. */
  alertTsMs: number;
}

/**
 * OHLCV candles of one mint, columnar and sorted by `ts` ascending. `ts` is
 * the bar's open time in epoch milliseconds.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { CandleSeries } from "./types.ts";
 * const s: CandleSeries = {
 *   ts: [0, 60_000], open: [1, 1], high: [1.2, 2.1], low: [0.9, 1], close: [1, 2],
 * };
 * assert.equal(s.ts.length, 2);
 * ```
 */
export interface CandleSeries {
  /** Bar open times, epoch ms, ascending. */
  ts: ArrayLike<number>;
  /** Open prices. */
  open: ArrayLike<number>;
  /** High prices. */
  high: ArrayLike<number>;
  /** Low prices. */
  low: ArrayLike<number>;
  /** Close prices. */
  close: ArrayLike<number>;
  /** Volumes (not used by the metrics). */
  volume?: ArrayLike<number>;
}

/**
 * Formats of input files, by extension: `.csv`, `.jsonl`/`.ndjson`/`.json`, `.parquet`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { FileFormat } from "./types.ts";
 * import { fileFormat } from "./data.ts";
 * const format: FileFormat = fileFormat("data/sample/calls.ndjson", "Calls");
 * // DuckDB's reader per format; a Record over FileFormat must name every format.
 * const reader: Record<FileFormat, string> = {
 *   csv: "read_csv",
 *   json: "read_json",
 *   parquet: "read_parquet",
 * };
 * assert.equal(reader[format], "read_json");
 * ```
 */
export type FileFormat = "csv" | "json" | "parquet";
