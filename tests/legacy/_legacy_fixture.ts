/**
 * Test fixtures for dual mode: a legacy DuckDB file (schema `optimizer`,
 * tables `runs_d` and `runs_status`) and a stand-in event-log index with the
 * SPEC 7 tables and `latest_runs` view, both built with `@duckdb/node-api`
 * and closed before the builder returns.
 *
 * @module
 */
import { INDEX_FORMAT_VERSION } from "../../indexer/schema.ts";
import { DuckDBInstance, type DuckDBValue } from "../../indexer/duckdb.ts";

/** One legacy run of a fixture. Omitted fields are NULL. */
export interface FixtureRun {
  run_id: string;
  run_type?: string | null;
  created_at_ms: number | null;
  config?: string | null;
  data_fingerprint?: string | null;
  started_at_ms?: number | null;
  completed_at_ms?: number | null;
  summary_json?: string | null;
  failed_at_ms?: number | null;
  error_json?: string | null;
  /** Leave this run out of `runs_status`. */
  noStatusRow?: boolean;
}

/** Options for {@linkcode createLegacyDb}. */
export interface LegacyDbOptions {
  /** Create `optimizer.runs_d`. @default {true} */
  runsTable?: boolean;
  /** Create `optimizer.runs_status`. @default {true} */
  statusTable?: boolean;
  /** Give `runs_status` the optional `failed_at_ms` and `error_json` columns. @default {true} */
  failureColumns?: boolean;
}

/**
 * Write a legacy DuckDB file at `path` holding `runs`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countRows, createLegacyDb } from "./_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const db = `${dir}/baseline_results.duckdb`;
 *   await createLegacyDb(db, [{ run_id: "r1", created_at_ms: 1 }]);
 *   assert.equal(await countRows(db, "SELECT * FROM optimizer.runs_d"), 1);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function createLegacyDb(
  path: string,
  runs: FixtureRun[],
  options: LegacyDbOptions = {},
): Promise<void> {
  const failure = options.failureColumns ?? true;
  await withDb(path, async (exec) => {
    await exec("CREATE SCHEMA IF NOT EXISTS optimizer");
    if (options.runsTable ?? true) {
      await exec(
        "CREATE TABLE optimizer.runs_d(run_id VARCHAR PRIMARY KEY, run_type VARCHAR, " +
          "created_at_ms BIGINT, config JSON, data_fingerprint VARCHAR)",
      );
      for (const r of runs) {
        await exec("INSERT INTO optimizer.runs_d VALUES (?, ?, ?, ?, ?)", [
          r.run_id,
          r.run_type ?? null,
          big(r.created_at_ms),
          r.config ?? null,
          r.data_fingerprint ?? null,
        ]);
      }
    }
    if (options.statusTable ?? true) {
      await exec(
        "CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms BIGINT, " +
          "completed_at_ms BIGINT, summary_json VARCHAR" +
          (failure ? ", failed_at_ms BIGINT, error_json VARCHAR)" : ")"),
      );
      for (const r of runs) {
        if (r.noStatusRow) continue;
        const values: DuckDBValue[] = [
          r.run_id,
          big(r.started_at_ms),
          big(r.completed_at_ms),
          r.summary_json ?? null,
        ];
        if (failure) values.push(big(r.failed_at_ms), r.error_json ?? null);
        const marks = values.map(() => "?").join(", ");
        await exec(`INSERT INTO optimizer.runs_status VALUES (${marks})`, values);
      }
    }
  });
}

/** One run of a stand-in index. */
export interface IndexFixtureRun {
  run_id: string;
  run_type: string;
  created_at_ms: number;
  config?: string;
  data_fingerprint?: string;
  started_at_ms?: number | null;
  completed_at_ms?: number | null;
  summary_json?: string | null;
  status: string;
}

/**
 * Write a stand-in index at `path` with the SPEC 7 run tables and a
 * `latest_runs` view (status stored, not derived), for tests that must not
 * depend on the indexer.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countRows, createIndexDb } from "./_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const db = `${dir}/runs.duckdb`;
 *   await createIndexDb(db, [{ run_id: "r2", run_type: "t", created_at_ms: 2, status: "running" }]);
 *   assert.equal(await countRows(db, "SELECT * FROM latest_runs WHERE status = 'running'"), 1);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function createIndexDb(path: string, runs: IndexFixtureRun[]): Promise<void> {
  await withDb(path, async (exec) => {
    await exec(
      "CREATE TABLE runs_d(run_id VARCHAR, run_type VARCHAR, created_at_ms BIGINT, " +
        "config JSON, data_fingerprint VARCHAR)",
    );
    await exec(
      "CREATE TABLE runs_status(run_id VARCHAR, started_at_ms BIGINT, completed_at_ms BIGINT, " +
        "failed_at_ms BIGINT, summary_json JSON, error_json JSON, status VARCHAR, " +
        "created_count BIGINT)",
    );
    await exec(
      "CREATE VIEW latest_runs AS SELECT d.run_id, d.run_type, d.created_at_ms, s.started_at_ms, " +
        "s.completed_at_ms, s.summary_json, s.status FROM runs_d d " +
        "LEFT JOIN runs_status s USING (run_id) ORDER BY d.created_at_ms DESC",
    );
    // The format of this code's index: readers refuse another (an older ledger's rules).
    await exec("CREATE TABLE index_meta(key VARCHAR, value VARCHAR)");
    await exec("INSERT INTO index_meta VALUES ('format_version', ?)", [
      String(INDEX_FORMAT_VERSION),
    ]);
    for (const r of runs) {
      await exec("INSERT INTO runs_d VALUES (?, ?, ?, ?, ?)", [
        r.run_id,
        r.run_type,
        BigInt(r.created_at_ms),
        r.config ?? "{}",
        r.data_fingerprint ?? "",
      ]);
      await exec("INSERT INTO runs_status VALUES (?, ?, ?, NULL, ?, NULL, ?, 1)", [
        r.run_id,
        big(r.started_at_ms),
        big(r.completed_at_ms),
        r.summary_json ?? null,
        r.status,
      ]);
    }
  });
}

/**
 * Run `sql` with bound `values` against the DuckDB file at `path` (read-write),
 * e.g. to change a legacy row after a backfill.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countRows, createLegacyDb, execSql } from "./_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const db = `${dir}/baseline_results.duckdb`;
 *   await createLegacyDb(db, [{ run_id: "r1", created_at_ms: 1 }]);
 *   await execSql(db, "UPDATE optimizer.runs_d SET run_type = ? WHERE run_id = ?", ["x", "r1"]);
 *   assert.equal(await countRows(db, "SELECT * FROM optimizer.runs_d WHERE run_type = 'x'"), 1);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function execSql(path: string, sql: string, values: DuckDBValue[] = []) {
  await withDb(path, async (exec) => {
    await exec(sql, values);
  });
}

/**
 * Create the legacy schema and its two tables at `path` with no key on
 * `run_id`, as quantBot's file has none: rows may repeat an id or have none.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countRows, createUnkeyedLegacyTables, execSql } from "./_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const db = `${dir}/baseline_results.duckdb`;
 *   await createUnkeyedLegacyTables(db);
 *   await execSql(db, "INSERT INTO optimizer.runs_d (run_id) VALUES ('a'), ('a'), (NULL)");
 *   assert.equal(await countRows(db, "SELECT * FROM optimizer.runs_d"), 3);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function createUnkeyedLegacyTables(path: string): Promise<void> {
  await withDb(path, async (exec) => {
    await exec("CREATE SCHEMA optimizer");
    await exec(
      "CREATE TABLE optimizer.runs_d(run_id VARCHAR, run_type VARCHAR, created_at_ms BIGINT, " +
        "config JSON, data_fingerprint VARCHAR)",
    );
    await exec(
      "CREATE TABLE optimizer.runs_status(run_id VARCHAR, started_at_ms BIGINT, " +
        "completed_at_ms BIGINT, summary_json VARCHAR, failed_at_ms BIGINT, error_json VARCHAR)",
    );
  });
}

/**
 * The number of rows `sql` returns from the DuckDB file at `path`, opened read-only.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { countRows, createLegacyDb } from "./_legacy_fixture.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   const db = `${dir}/baseline_results.duckdb`;
 *   await createLegacyDb(db, [{ run_id: "r1", created_at_ms: 1 }, { run_id: "r2", created_at_ms: 2 }]);
 *   assert.equal(await countRows(db, "SELECT * FROM optimizer.runs_d"), 2);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function countRows(path: string, sql: string): Promise<number> {
  const instance = await DuckDBInstance.create(path, { access_mode: "READ_ONLY" });
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.currentRowCount;
  } finally {
    connection.disconnectSync();
    instance.closeSync();
  }
}

type Exec = (sql: string, values?: DuckDBValue[]) => Promise<void>;

async function withDb(path: string, body: (exec: Exec) => Promise<void>): Promise<void> {
  const slash = path.lastIndexOf("/");
  // A bare file name has no folder to make (a probe: "abc.duckdb" made a folder "abc.duckd").
  if (slash > 0) await Deno.mkdir(path.slice(0, slash), { recursive: true });
  const instance = await DuckDBInstance.create(path);
  const connection = await instance.connect();
  try {
    await body(async (sql, values) => {
      await connection.run(sql, values ?? []);
    });
    await connection.run("CHECKPOINT");
  } finally {
    connection.disconnectSync();
    instance.closeSync();
  }
}

function big(v: number | null | undefined): bigint | null {
  return v === null || v === undefined ? null : BigInt(v);
}
