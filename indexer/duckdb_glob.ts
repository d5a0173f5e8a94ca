/**
 * Paths as DuckDB's file readers take them: every path given to
 * `read_text`, `read_csv`, `read_json` or `read_parquet` is a glob pattern.
 * (Beside `duckdb.ts`, which holds the package's exports and nothing else.)
 *
 * @module
 */
/**
 * `path` as a DuckDB glob that matches only itself, for every file a reader
 * function (`read_text`, `read_csv`, `read_json`, `read_parquet`) is given.
 * DuckDB takes every path as a pattern: a part named `a[1].jsonl` read
 * `a1.jsonl` in its place, and `b*.jsonl` read every `b...` part of its day
 * too; a backtest's `prices[2024].csv` would read `prices2.csv`. Each `*`,
 * `?` and `[` becomes a class of that one character; the `filename` DuckDB
 * reports is still the path itself.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { literalGlob } from "./duckdb_glob.ts";
 * assert.equal(literalGlob("/log/day=2026-01-20/a[1]*?.jsonl"), "/log/day=2026-01-20/a[[]1][*][?].jsonl");
 * assert.equal(literalGlob("/log/day=2026-01-20/part-000001.jsonl"), "/log/day=2026-01-20/part-000001.jsonl");
 * ```
 */
export function literalGlob(path: string): string {
  return path.replace(/[*?[]/g, (c) => `[${c}]`);
}
