/**
 * Parquet row groups of a wide export are bounded (a scale audit: with one
 * sweep of 250 params and 250 metrics among 400 others, the 514-column
 * trials file was written in row groups of DuckDB's default 122,880 rows,
 * each held whole and written in one uninterruptible step: 2.5 minutes,
 * and a SIGTERM answered 22-88 s late). A table of at most 256 columns keeps
 * DuckDB's default, so its file is as before.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { exportIndex } from "../../indexer/query/mod.ts";
import { withTempDir } from "../_helpers.ts";

/** Trials of the sweep: more than two groups of the smallest row group (2,048). */
const TRIALS = 5000;
/** Params of the one wide trial: the table gets 3 + 2 + 600 columns. */
const WIDE_KEYS = 600;

async function indexSweep(root: string, wide: boolean): Promise<void> {
  const lines = [
    ev("run.created", "s", T0, { run_type: "sweep", config: {}, data_fingerprint: "f" }),
  ];
  for (let i = 0; i < TRIALS; i++) {
    const params: Record<string, unknown> = { stop: (i % 100) / 100 };
    if (wide && i === TRIALS - 1) { for (let k = 0; k < WIDE_KEYS; k++) params[`p${k}`] = k; }
    lines.push(ev("trial.recorded", "s", T0 + 1 + i, {
      trial_id: `t${i}`,
      params,
      metrics: { sharpe: (i % 101) / 10 },
    }));
  }
  await writePart(root, join("day=2026-01-20", "part-trials.jsonl"), lines);
  await rebuildIndex(root, {});
}

/** The rows of each row group of the Parquet file at `path`, in order. */
async function rowGroupRows(path: string): Promise<number[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata('${path}')
        ORDER BY row_group_id`,
    );
    return reader.getRows().map(([, rows]) => Number(rows));
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

Deno.test("export parquet: a wide table is written in row groups of at most 1M values", async (t) => {
  await t.step("605 columns: groups of 2,048 rows", async () => {
    await withTempDir(async (root) => {
      await indexSweep(root, true);
      const outPath = join(root, "trials.parquet");
      const report = await exportIndex(indexPath(root), {
        what: "trials",
        format: "parquet",
        outPath,
      });
      equal(report.columns.length, 3 + 2 + WIDE_KEYS);
      equal(report.rows, TRIALS);
      deepEqual(await rowGroupRows(outPath), [2048, 2048, TRIALS - 2 * 2048]);
    });
  });
  await t.step("5 columns: DuckDB's default, one group", async () => {
    await withTempDir(async (root) => {
      await indexSweep(root, false);
      const outPath = join(root, "trials.parquet");
      const report = await exportIndex(indexPath(root), {
        what: "trials",
        format: "parquet",
        outPath,
      });
      equal(report.columns.length, 5);
      deepEqual(await rowGroupRows(outPath), [TRIALS]);
    });
  });
});
