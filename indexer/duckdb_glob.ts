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
 * reports is still the path itself. In a pattern DuckDB reads a backslash
 * as an escape, and no class or escape matches one: in a path that is a
 * pattern a backslash becomes `?`, any one character: a file named alike
 * but for that character matches too ({@linkcode globMatchesOthers}), which
 * a reader drops or reads once. A probe: `b\*.jsonl` and a root `r\[x]`
 * were read as no file at all, every event lost, "read 3 of 3 files".
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { literalGlob } from "./duckdb_glob.ts";
 * assert.equal(literalGlob("/log/day=2026-01-20/a[1]*?.jsonl"), "/log/day=2026-01-20/a[[]1][*][?].jsonl");
 * assert.equal(literalGlob("/log/day=2026-01-20/part-000001.jsonl"), "/log/day=2026-01-20/part-000001.jsonl");
 * assert.equal(literalGlob("/log/b\\*.jsonl"), "/log/b?[*].jsonl");
 * assert.equal(literalGlob("/log/c\\d.jsonl"), "/log/c\\d.jsonl"); // no pattern: as it is
 * ```
 */
export function literalGlob(path: string): string {
  if (!/[*?[]/.test(path)) return path;
  return path.replace(/[*?[\\]/g, (c) => (c === "\\" ? "?" : `[${c}]`));
}

/**
 * Whether {@linkcode literalGlob} of `path` may match other files than it
 * (a backslash in a path that is a pattern): a reader given several such
 * globs can read one file twice, and must keep one row per file name.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { globMatchesOthers } from "./duckdb_glob.ts";
 * assert.equal(globMatchesOthers("/log/b\\*.jsonl"), true);
 * assert.equal(globMatchesOthers("/log/c\\d.jsonl"), false);
 * assert.equal(globMatchesOthers("/log/a[1].jsonl"), false);
 * ```
 */
export function globMatchesOthers(path: string): boolean {
  return path.includes("\\") && /[*?[]/.test(path);
}
