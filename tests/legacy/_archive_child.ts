/**
 * Child of tests/legacy/archive_moves_test.ts: one of two real processes the
 * test kills with SIGKILL.
 *
 * - `wal LEGACY_DB RUN_ID`: a legacy writer that inserts run `RUN_ID` into
 *   `optimizer.runs_d` without checkpointing, prints `ready` and waits to be
 *   killed: the row is then only in `LEGACY_DB.wal`.
 * - `archive LEGACY_DB ROOT SUFFIX`: `archiveLegacy`, killing its own process
 *   (SIGKILL) as it is about to move the companion file ending in `SUFFIX`.
 *
 * @module
 */
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { archiveLegacy } from "../../legacy/parity.ts";
import { REAL_FS, useDurableFs } from "../../ledger/durable_fs.ts";

const [mode, legacyDbPath, ...rest] = Deno.args;
if (mode === "wal") {
  const instance = await DuckDBInstance.create(legacyDbPath);
  const connection = await instance.connect();
  await connection.run("SET wal_autocheckpoint = '1GB'");
  await connection.run(
    "INSERT INTO optimizer.runs_d (run_id, run_type, created_at_ms, config, data_fingerprint) " +
      "VALUES (?, 'policy', 1764547200000, '{}', 'fp')",
    [rest[0]],
  );
  console.log("ready");
  // Killed here (a promise alone would end the process: nothing else keeps its loop alive).
  await new Promise((resolve) => setTimeout(resolve, 3_600_000));
} else if (mode === "archive") {
  const [root, suffix] = rest;
  useDurableFs({
    ...REAL_FS,
    rename(from, to) {
      if (from === `${legacyDbPath}${suffix}`) Deno.kill(Deno.pid, "SIGKILL");
      return REAL_FS.rename(from, to);
    },
  });
  await archiveLegacy({ legacyDbPath, root });
  console.error("archive_child: the archive finished; it was to be killed");
  Deno.exit(3);
} else {
  throw new Error(`archive_child: unknown mode ${JSON.stringify(mode)}`);
}
