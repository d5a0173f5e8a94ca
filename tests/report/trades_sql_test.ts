/**
 * The report's per-call query (`TRADES_SQL`): a call never entered
 * (`exit_reason` `no_entry`) is not a trade (docs/METRICS.md). An audit
 * found each drawn as a break-even trade in the equity curve, both
 * histograms and the "N calls" caption.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { duckdb, DuckDBInstance } from "../../indexer/duckdb.ts";
import { TRADES_SQL } from "../../report/_sql.ts";
import { withTempDir } from "../_helpers.ts";

Deno.test("TRADES_SQL leaves no_entry calls out", async () => {
  await withTempDir(async (dir) => {
    const file = join(dir, "policy_results.parquet");
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    try {
      await conn.run(`COPY (SELECT * FROM (VALUES
          ('c1', 120000::BIGINT, -1027.0::DOUBLE, -1000.0::DOUBLE, 'stop'),
          ('c2', 60000::BIGINT, -1027.0::DOUBLE, -1000.0::DOUBLE, 'stop'),
          ('c3', 600000::BIGINT, 0.0::DOUBLE, 0.0::DOUBLE, 'no_entry'))
        t(call_id, exit_ts_ms, realized_return_bps, max_adverse_excursion_bps, exit_reason))
        TO '${file}' (FORMAT parquet)`);
      const { LIST, listValue, VARCHAR } = duckdb();
      const reader = await conn.runAndReadAll(TRADES_SQL, [listValue([file])], [LIST(VARCHAR)]);
      const [row] = reader.getRowObjectsJS();
      assert.deepEqual(JSON.parse(String(row.exits)), [60000, 120000]);
      assert.deepEqual(JSON.parse(String(row.returns)), [-1027, -1027]);
      assert.deepEqual(JSON.parse(String(row.adverse)), [-1000, -1000]);
    } finally {
      conn.disconnectSync();
      db.closeSync();
    }
  });
});
