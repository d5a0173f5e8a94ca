/**
 * A legacy `runs_status.status` word (docs/MIGRATION.md: "the writer's own
 * status word; `failed` there counts as failed") does not override the
 * times: dual mode shows the status the backfilled run has in the index.
 * An audit found a row saying `running` with a completion time listed as
 * running (completed after the backfill), and one saying `completed` with
 * no completion time listed as completed (stale after the backfill): the
 * migration changed what `ledger runs` said about the same runs.
 *
 * Real processes: `ledger runs --legacy-db`, `ledger legacy backfill`,
 * `ledger runs` on the index alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const DAY_MS = 86_400_000;
/** A week before the 2026-01-23 cutover. */
const T0_MS = Date.UTC(2026, 0, 16);

/** `[run_id, started, completed, failed, error_json, status]`, created at T0 + i days. */
const ROWS: [string, number | null, number | null, number | null, string | null, string | null][] =
  [
    ["said-running", 1_000, 60_000, null, null, "running"],
    ["said-completed", 1_000, null, null, null, "completed"],
    ["said-pending", 1_000, 90_000, null, null, "pending"],
    ["said-done", 1_000, 30_000, null, null, "DONE"],
    ["said-failed", 1_000, null, null, null, "FAILED"],
    ["said-stale", null, null, null, null, "stale"],
    ["no-word", 1_000, 45_000, null, null, null],
  ];

async function writeLegacy(path: string): Promise<void> {
  const db = await DuckDBInstance.create(path);
  const conn = await db.connect();
  try {
    await conn.run(`CREATE SCHEMA optimizer;
      CREATE TABLE optimizer.runs_d(run_id VARCHAR, run_type VARCHAR, created_at_ms BIGINT,
        config JSON, data_fingerprint VARCHAR);
      CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms BIGINT,
        completed_at_ms BIGINT, summary_json VARCHAR, failed_at_ms BIGINT, error_json VARCHAR,
        status VARCHAR)`);
    for (const [i, [runId, started, completed, failed, error, status]] of ROWS.entries()) {
      const created = T0_MS + i * DAY_MS;
      const at = (offset: number | null) => offset === null ? "NULL" : String(created + offset);
      const text = (v: string | null) => v === null ? "NULL" : `'${v}'`;
      await conn.run(
        `INSERT INTO optimizer.runs_d VALUES ('${runId}', 'policy', ${created}, '{}', 'fp')`,
      );
      await conn.run(
        `INSERT INTO optimizer.runs_status VALUES ('${runId}', ${at(started)}, ${at(completed)}, ${
          completed === null ? "NULL" : `'{"n": ${i}}'`
        }, ${at(failed)}, ${text(error)}, ${text(status)})`,
      );
    }
  } finally {
    conn.disconnectSync();
    db.closeSync();
  }
}

async function statuses(args: string[]): Promise<Record<string, string>> {
  const res = await runLedger(["runs", "--json", "--all", ...args]);
  assert.equal(res.code, 0, res.stderr);
  const rows = JSON.parse(res.stdout) as { run_id: string; status: string }[];
  return Object.fromEntries(rows.map((r) => [r.run_id, r.status]));
}

Deno.test("dual mode: a legacy status word other than failed does not override the times", async () => {
  await withTempDir(async (dir) => {
    const legacyDb = join(dir, "baseline_results.duckdb");
    const root = join(dir, "ledger");
    await writeLegacy(legacyDb);
    const dual = await statuses(["--root", root, "--legacy-db", legacyDb]);
    // By the index's rule (docs/MIGRATION.md): the times decide, `failed` counts as failed.
    const expected = {
      "said-running": "completed",
      "said-completed": "stale", // started in January, never completed
      "said-pending": "completed",
      "said-done": "completed",
      "said-failed": "failed",
      "said-stale": "pending", // no time at all
      "no-word": "completed",
    };
    assert.deepEqual(dual, expected);
    // The backfilled runs read back from the index alone: the same statuses.
    const backfill = await runLedger([
      "legacy",
      "backfill",
      "--root",
      root,
      "--legacy-db",
      legacyDb,
    ]);
    assert.equal(backfill.code, 0, backfill.stderr);
    assert.deepEqual(await statuses(["--root", root]), expected);
  });
});
