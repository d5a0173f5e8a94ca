/**
 * A run's `policy_results.parquet` without a column the report reads
 * (`exit_reason`, say: a file another tool wrote) is said unreadable whether
 * the report holds that run alone or beside others. An audit found it read
 * with the others by name (`union_by_name`): the missing column read as
 * nulls, so its calls never entered were drawn as trades, without a word,
 * when the report had two runs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { charts } from "./_page.ts";
import { backtestRuns } from "./_fixture.ts";

/** Rewrite the Parquet file `path` without its column `column`. */
async function dropColumn(path: string, column: string): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  try {
    const copy = `${path}.full`;
    await Deno.rename(path, copy);
    await conn.run(
      `COPY (SELECT * EXCLUDE (${column}) FROM read_parquet('${copy}')) TO '${path}' (FORMAT parquet)`,
    );
    await Deno.remove(copy);
  } finally {
    conn.disconnectSync();
    db.closeSync();
  }
}

Deno.test("ledger report: a per-call file without exit_reason is unreadable beside other runs too", async () => {
  await withTempDir(async (root) => {
    await backtestRuns(
      root,
      ([["pol-a", 0.3], ["pol-b", 0.2]] as const).map(([runId, stopPct]) =>
        [runId, ["policy", "--policy", JSON.stringify({ type: "fixed_stop", stopPct })]] as const
      ),
    );
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const results = join(root, "artifacts", "runs", "pol-a", "policy_results.parquet");
    await dropColumn(results, "exit_reason");

    const report = async (runIds: string[]) => {
      const out = join(root, "r.html");
      const res = await runLedger(["report", ...runIds, "--root", root, "--out", out]);
      assert.equal(res.code, 0, res.stderr);
      return {
        warnings: res.stderr.split("\n").filter((l) => l !== ""),
        html: await Deno.readTextFile(out),
      };
    };
    const warning = `ledger report: warning: run pol-a: ${results} could not be read: ` +
      'Binder Error: Referenced column "exit_reason" not found in FROM clause!';
    const alone = await report(["pol-a"]);
    assert.deepEqual(alone.warnings, [warning]);
    assert.ok(!("run-0-equity" in charts(alone.html)));

    const both = await report(["pol-a", "pol-b"]);
    assert.deepEqual(both.warnings, [warning]);
    const data = charts(both.html);
    assert.ok(!("run-0-equity" in data) && !("run-0-returns" in data), "no curve of pol-a");
    const b = data["run-1-equity"] as { series: { t: number[] }[] };
    assert.ok(b.series[0].t.length > 10, "pol-b's curve stands");
  });
});
