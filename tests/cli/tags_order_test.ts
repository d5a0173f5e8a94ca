/**
 * A run's tags as one object (`runs --columns tags`, `export`'s `tags.*`
 * columns) have their keys in order: they followed the index's row order,
 * which each rebuild lays out anew, so two indexes of one log exported the
 * columns in another order (a differential audit).
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("tags come out with their keys in order, in runs and in export", async () => {
  await withTempDir(async (root) => {
    const ok = async (args: string[]) => {
      const r = await runLedger([...args, "--root", root]);
      equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    await ok([
      ...["emit", "--event-type", "run.created", "--run-id", "tagged", "--run-type", "manual"],
      ...["--config", "{}", "--data-fingerprint", "f"],
    ]);
    await ok(["rebuild-index"]); // tag resolves the run in the index
    for (const tag of ["zeta=1", "owner=me", "alpha=2", "label=best"]) {
      await ok(["tag", "tagged", tag, "--no-index"]);
    }
    await ok(["rebuild-index"]);
    const line = JSON.parse(await ok(["runs", "--columns", "tags", "--format", "jsonl"]));
    deepEqual(Object.keys(line.tags), ["alpha", "label", "owner", "zeta"]);
    const out = join(root, "runs.parquet");
    await ok(["export", "runs", "--format", "parquet", "--out", out]);
    const instance = await DuckDBInstance.create(":memory:");
    try {
      const conn = await instance.connect();
      const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${out}')`);
      const tags = reader.columnNames().filter((n) => n.startsWith("tags."));
      deepEqual(tags, ["tags.alpha", "tags.label", "tags.owner", "tags.zeta"]);
      conn.disconnectSync();
    } finally {
      instance.closeSync();
    }
  });
});
