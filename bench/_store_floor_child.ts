/**
 * The floor of a full rebuild, for benchmark item 6 (`bench/_index.ts`):
 * what a full rebuild pays after every line is read and checked. A new index
 * gets the schema, the events of an index the rebuild just made (read from
 * that file, so no line is split, parsed or checked), the derived tables the
 * way the rebuild derives them, and the checkpoint and close that make the
 * file complete. The time runs from creating the database to closing it, as
 * in `bench/_read_json_child.ts`. Prints one JSON line.
 *
 * Usage: `deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys bench/_store_floor_child.ts BUILT_INDEX DB_PATH`
 *
 * @module
 */
import { DuckDBInstance } from "../indexer/duckdb.ts";
import { dirname, join } from "node:path";
import { exec, rows } from "../indexer/_sql.ts";
import {
  deriveAll,
  deriveGroupEventsFor,
  INDEX_BLOCK_BYTES,
  MEMORY_LIMIT_DEFAULT,
} from "../indexer/rebuild.ts";
import { CREATE_AFFECTED_RUNS_SQL, CREATE_SCHEMA_SQL, EVENT_COLUMNS } from "../indexer/schema.ts";
import { peakRssBytes } from "./_stats.ts";

/** What the child prints. */
export interface StoreFloorResult {
  /** From creating the database to closing it. */
  elapsedMs: number;
  /** Inserting the events. */
  storeMs: number;
  /** Deriving the run tables. */
  deriveMs: number;
  /** Checkpoint and close. */
  checkpointMs: number;
  /** Events stored. */
  events: number;
  /** Peak resident memory of this process (`VmHWM`). */
  peakRssBytes: number;
}

async function main(): Promise<void> {
  const [builtPath, dbPath] = Deno.args;
  if (builtPath === undefined || dbPath === undefined) {
    throw new TypeError("Usage: _store_floor_child.ts BUILT_INDEX DB_PATH");
  }
  await Deno.remove(dbPath).catch((err) => {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
  });
  const spill = await Deno.makeTempDir({ dir: dirname(dbPath), prefix: "floor-spill-" });
  try {
    const t0 = performance.now();
    // The rebuild's own settings: its memory limit, spilling beside the index.
    const instance = await DuckDBInstance.create(dbPath, {
      memory_limit: MEMORY_LIMIT_DEFAULT,
      temp_directory: join(spill, "spill"),
      default_block_size: String(INDEX_BLOCK_BYTES),
    });
    const conn = await instance.connect();
    let storeMs: number;
    let deriveMs: number;
    let events: number;
    let t3: number;
    try {
      await exec(conn, "SET preserve_insertion_order = false");
      await exec(conn, CREATE_SCHEMA_SQL);
      await exec(conn, CREATE_AFFECTED_RUNS_SQL);
      // ATTACH takes no parameter: the path (the bench's own temp folder) as a SQL string.
      await exec(conn, `ATTACH '${builtPath.replaceAll("'", "''")}' AS built (READ_ONLY)`);
      const columns = EVENT_COLUMNS.join(", ");
      const t1 = performance.now();
      await exec(conn, `INSERT INTO events (${columns}) SELECT ${columns} FROM built.events`);
      await exec(conn, "DETACH built");
      const t2 = performance.now();
      await deriveAll(conn, deriveGroupEventsFor(MEMORY_LIMIT_DEFAULT));
      t3 = performance.now();
      const [{ n }] = await rows(conn, `SELECT count(*) AS n FROM events`);
      events = Number(n);
      await exec(conn, "DROP TABLE affected_runs");
      await exec(conn, "CHECKPOINT");
      storeMs = t2 - t1;
      deriveMs = t3 - t2;
    } finally {
      conn.disconnectSync();
      instance.closeSync();
    }
    const elapsedMs = performance.now() - t0;
    const result: StoreFloorResult = {
      elapsedMs,
      storeMs,
      deriveMs,
      checkpointMs: performance.now() - t3,
      events,
      peakRssBytes: peakRssBytes(),
    };
    console.log(JSON.stringify(result));
  } finally {
    await Deno.remove(spill, { recursive: true });
  }
}

if (import.meta.main) await main();
