/**
 * The derive reads `events` by spans of `rowid` (indexer/schema.ts,
 * AFFECTED_EVENTS). A checkpoint compacts row groups that lost rows (a
 * rebuild's deduplication and re-reads delete events) and renumbers the rows
 * after them, so a span must be read and used with no checkpoint between.
 * DuckDB checkpoints on its own once the WAL passes `checkpoint_threshold`
 * (16 MiB by default: a large log's derive passes it); these tests set it to
 * 1 KB so that every commit checkpoints, on an index of small row groups.
 */
import { deepStrictEqual as deepEqual, ok } from "node:assert/strict";
import { join } from "node:path";
import { deriveAffected, deriveAll, rebuildIndex } from "../../indexer/rebuild.ts";
import { CREATE_AFFECTED_RUNS_SQL, CREATE_SCHEMA_SQL } from "../../indexer/schema.ts";
import { type DuckDBConnection, DuckDBInstance } from "../../indexer/duckdb.ts";
import { dumpTables, fullRun, T0, writePart } from "./_fixtures.ts";

const RUNS = 300;
const ROW_GROUP_ROWS = 2048;

/**
 * An index built from a log of {@linkcode RUNS} runs, and a copy of its
 * events in row groups of {@linkcode ROW_GROUP_ROWS} rows whose first half
 * was deleted and appended again (as deduplication re-inserts the winners),
 * with no derived rows yet: given to `body` open, checkpointing at every
 * commit.
 */
async function withCompactingIndex(
  root: string,
  body: (conn: DuckDBConnection) => Promise<void>,
): Promise<{ derived: string; built: string }> {
  const lines = [];
  for (let i = 0; i < RUNS; i++) lines.push(...fullRun(`run-${i}`, T0 + i * 100));
  await writePart(root, "day=2026-01-20/part-1.jsonl", lines);
  const built = join(root, "index", "built.duckdb");
  await rebuildIndex(root, { full: true, dbPath: built });
  const derived = join(root, "index", "derived.duckdb");
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${derived}' AS derived (ROW_GROUP_SIZE ${ROW_GROUP_ROWS})`);
    await conn.run(`ATTACH '${built}' AS built (READ_ONLY)`);
    await conn.run("USE derived");
    for (const sql of CREATE_SCHEMA_SQL) await conn.run(sql);
    await conn.run("INSERT INTO events SELECT * FROM built.events");
    await conn.run("CHECKPOINT derived");
    const groups = await conn.runAndReadAll(
      "SELECT count(DISTINCT row_group_id) FROM pragma_storage_info('events')",
    );
    ok(Number(groups.getRows()[0][0]) > 1, "events span several row groups");
    const half = `rowid < (SELECT count(*) // 2 FROM events)`;
    await conn.run(`CREATE TEMP TABLE moved AS SELECT * FROM events WHERE ${half}`);
    await conn.run(`DELETE FROM events WHERE ${half}`);
    await conn.run("INSERT INTO events SELECT * FROM moved");
    await conn.run("DETACH built");
    await conn.run("SET checkpoint_threshold = '1KB'");
    await conn.run(CREATE_AFFECTED_RUNS_SQL);
    await body(conn);
    await conn.run("CHECKPOINT derived");
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
  return { derived, built };
}

async function assertSameDerivedTables(paths: { derived: string; built: string }): Promise<void> {
  const derived = await dumpTables(paths.derived);
  const built = await dumpTables(paths.built);
  ok(built.runs_status.length === RUNS && built.phase_timings.length > RUNS);
  for (const table of Object.keys(built)) {
    if (table === "ingest_files") continue; // not copied: nothing derives it
    deepEqual(derived[table], built[table], `table ${table}`);
  }
}

Deno.test("a grouped derive gives every run when commits checkpoint and compact events", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-spans-" });
  try {
    // Groups of about 300 events: 10 groups, each span read once at the start.
    await assertSameDerivedTables(await withCompactingIndex(root, (c) => deriveAll(c, RUNS)));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("an incremental derive gives every run when commits checkpoint and compact events", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-spans-" });
  try {
    const paths = await withCompactingIndex(root, async (conn) => {
      await conn.run("INSERT INTO affected_runs SELECT DISTINCT run_id FROM events");
      await deriveAffected(conn);
    });
    await assertSameDerivedTables(paths);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
