/**
 * A crafted previous index (an audit): the incremental rebuild opens a copy
 * of it with external access on (it reads the log), so a macro that shadows
 * a built-in the rebuild calls (`from_json`), or a view in place of a table,
 * ran with that access and read another file into the new index or onto
 * stderr. Such a copy is now refused before any statement of the rebuild
 * runs on it, and the index is built anew from the log.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { fullRun, T0, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

const SECRET = "TOP-SECRET-7f3a";

async function run(dbPath: string, sql: string[]): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(dbPath);
  const conn = await instance.connect();
  try {
    let last: Record<string, unknown>[] = [];
    for (const s of sql) last = (await conn.runAndReadAll(s)).getRowObjectsJS();
    return last;
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

Deno.test("an incremental rebuild does not run a crafted index's macros or views", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const dbPath = join(root, "index", "runs.duckdb");
    const secret = join(dir, "secret.txt");
    await Deno.writeTextFile(secret, SECRET);
    const read = `(SELECT content FROM read_text('${secret}'))`;
    const crafts: [string, string[]][] = [
      ["a macro shadowing from_json", [
        `CREATE MACRO from_json(a, b) AS json_transform(CASE WHEN b LIKE '%"run_type"%' ` +
        `THEN json_merge_patch(a, json_object('run_type', ${read})) ELSE a END, b)`,
      ]],
      ["a macro that raises the file as an error", [
        `CREATE MACRO from_json(a, b) AS CASE WHEN b LIKE '%"run_type"%' THEN error(${read}) ` +
        `ELSE json_transform(a, b) END`,
      ]],
      ["a view in place of a table", [
        "ALTER TABLE ingest_files RENAME TO f0",
        `CREATE VIEW ingest_files AS SELECT * REPLACE (${read} AS last_line_md5) FROM f0`,
      ]],
    ];
    for (const [i, [name, sql]] of crafts.entries()) {
      await t.step(name, async () => {
        await writePart(root, `day=2026-01-20/p${i}.jsonl`, fullRun(`run-${i}`, T0 + i));
        await rebuildIndex(root, {});
        await run(dbPath, sql);
        await writePart(root, `day=2026-01-20/q${i}.jsonl`, fullRun(`later-${i}`, T0 + 100 + i));
        const report = await rebuildIndex(root, {});
        assert.match(report.recoveredFrom ?? "", /holds .* that no index ledger builds has/);
        assert.ok(!(report.recoveredFrom ?? "").includes(SECRET));
        const [found] = await run(dbPath, [
          `SELECT
            (SELECT count(*) FROM runs_d WHERE contains(run_type, '${SECRET}'))::INTEGER AS leaked,
            (SELECT count(*) FROM runs_d WHERE run_id = 'later-${i}')::INTEGER AS later,
            (SELECT count(*) FROM system.main.duckdb_functions() WHERE NOT internal)::INTEGER
              AS functions,
            (SELECT count(*) FROM system.main.duckdb_views() WHERE NOT internal)::INTEGER AS views`,
        ]);
        assert.deepEqual(found, { leaked: 0, later: 1, functions: 0, views: 2 });
      });
    }
    // With the log unchanged, the index is not answered as it is (the check is asked of an
    // unchanged index last, issue 16): it is refused and built anew the same way.
    await t.step("a macro in an index the log has not changed since", async () => {
      await rebuildIndex(root, {});
      await run(dbPath, [`CREATE MACRO from_json(a, b) AS error(${read})`]);
      const report = await rebuildIndex(root, {});
      assert.notEqual(report.unchanged, true);
      assert.match(report.recoveredFrom ?? "", /holds 1 function that no index ledger builds has/);
      const [found] = await run(dbPath, [
        `SELECT (SELECT count(*) FROM system.main.duckdb_functions() WHERE NOT internal)::INTEGER
          AS functions`,
      ]);
      assert.deepEqual(found, { functions: 0 });
    });
  });
});
