/**
 * A negative zero keeps its sign in Parquet beside zeros. DuckDB's Parquet
 * writer keeps one dictionary entry for 0.0 and -0.0, so every zero of a
 * column chunk took the sign of the first one written: an oracle probe found
 * one run's -0.0 turning four others' 0 into -0.0 in `export --format
 * parquet` (and a 0 first turning a later -0.0 into 0), where JSONL and CSV
 * were right; a sweep's own `trials.parquet` is written by the same writer.
 * Files with a negative zero are written without dictionaries; the others
 * keep them (smaller files).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { writeParquet } from "../../backtest/_parquet.ts";
import { openDataSession } from "../../backtest/data.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 20);

/** `sql` over a fresh in-memory DuckDB, rows as JS values. */
async function query(sql: string): Promise<unknown[][]> {
  const db = await DuckDBInstance.create(":memory:");
  try {
    const conn = await db.connect();
    try {
      return (await conn.runAndReadAll(sql)).getRowsJS();
    } finally {
      conn.disconnectSync();
    }
  } finally {
    db.closeSync();
  }
}

/** The signs of a DOUBLE column of a Parquet file, in file order (null for NULL). */
async function signs(path: string, column: string): Promise<(boolean | null)[]> {
  const rows = await query(`SELECT signbit("${column}") FROM read_parquet('${path}')`);
  return rows.map((r) => r[0] as boolean | null);
}

/** Whether some column chunk of the file is dictionary-encoded. */
async function usesDictionary(path: string): Promise<boolean> {
  const rows = await query(`SELECT encodings FROM parquet_metadata('${path}')`);
  return rows.some((r) => String(r[0]).includes("DICTIONARY"));
}

/** `ledger export WHAT --format parquet --out OUT --root ROOT`, which must succeed. */
async function exportParquet(what: "runs" | "trials", root: string, out: string): Promise<void> {
  const r = await runLedger(["export", what, "--format", "parquet", "--out", out, "--root", root]);
  assert.equal(r.code, 0, r.stderr);
}

/** Runs whose `x` is given as JSON text: one run and one trial each. */
function part(xs: string[], ys: string[]): string {
  return xs.flatMap((x, i) => [
    JSON.stringify({
      event_type: "run.created",
      event_id: `c${i}`,
      run_id: `z${String(i).padStart(4, "0")}`,
      run_type: "x",
      config: { x: "X", y: "Y" },
      data_fingerprint: "f",
      timestamp_ms: T0 + i,
      schema_version: 1,
    }).replace('"X"', x).replace('"Y"', ys[i]),
    JSON.stringify({
      event_type: "trial.recorded",
      event_id: `t${i}`,
      run_id: `z${String(i).padStart(4, "0")}`,
      trial_id: "t",
      params: { p: 1 },
      metrics: { m: "Y" },
      timestamp_ms: T0 + 10 + i,
      schema_version: 1,
    }).replace('"Y"', ys[i]),
  ]).join("\n") + "\n";
}

Deno.test("export --format parquet keeps each zero's sign beside the others", async (t) => {
  await withTempDir(async (root) => {
    // x: a negative zero first, then zeros; y: zeros first, then negative zeros (one
    // underflowing to -0 from -1e-400).
    // (Enough rows of few values for DuckDB to choose a dictionary.)
    const xs = Array.from({ length: 300 }, (_, i) => i === 0 ? "-0.0" : i % 3 ? "0" : "1");
    const ys = Array.from(
      { length: 300 },
      (_, i) => i === 150 ? "-0.0" : i === 200 ? "-1e-400" : i % 3 ? "0.0" : "2",
    );
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-000001.jsonl"), part(xs, ys));
    await rebuildIndex(root, {});
    const want = (texts: string[]) => texts.map((v) => Object.is(Number(v), -0));

    await t.step("runs", async () => {
      const out = join(root, "runs.parquet");
      await exportParquet("runs", root, out);
      assert.deepEqual(await signs(out, "config.x"), want(xs));
      assert.deepEqual(await signs(out, "config.y"), want(ys));
    });

    await t.step("trials", async () => {
      const out = join(root, "trials.parquet");
      await exportParquet("trials", root, out);
      assert.deepEqual(await signs(out, "metrics.m"), want(ys));
    });

    await t.step("without a negative zero, the file keeps its dictionaries", async () => {
      // Enough rows of few values for DuckDB to choose a dictionary (it writes a handful of
      // rows plain).
      const many = join(root, "many");
      const manyDir = join(many, "events", "day=2026-01-20");
      await Deno.mkdir(manyDir, { recursive: true });
      const n = 2_000;
      const zeros = Array.from({ length: n }, (_, i) => i % 3 === 0 ? "1" : "0.0");
      await Deno.writeTextFile(join(manyDir, "part-000001.jsonl"), part(zeros, zeros));
      await rebuildIndex(many, {});
      const out = join(root, "plain.parquet");
      await exportParquet("runs", many, out);
      assert.deepEqual(await signs(out, "config.x"), Array(n).fill(false));
      assert.equal(await usesDictionary(out), true);
    });
  });
});

Deno.test("a run's Parquet artifacts keep each zero's sign", async () => {
  await withTempDir(async (dir) => {
    const s = await openDataSession();
    try {
      const columns = [{ name: "x", type: "DOUBLE" }] as const;
      const values = Array.from({ length: 2_000 }, (_, i) => i === 500 ? -0 : i % 3 ? 0 : 2);
      const path = join(dir, "signs.parquet");
      await writeParquet(s.conn, path, { columns, rows: values.map((v) => [v]) });
      assert.deepEqual(await signs(path, "x"), values.map((v) => Object.is(v, -0)));
      const plain = join(dir, "plain.parquet");
      const few = Array.from({ length: 2_000 }, (_, i) => [i % 3 === 0 ? 1 : 0]);
      await writeParquet(s.conn, plain, { columns, rows: few });
      assert.equal(await usesDictionary(plain), true);
    } finally {
      s.close();
    }
  });
});
