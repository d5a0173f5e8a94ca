import { deepStrictEqual as deepEqual, ok, rejects, strictEqual as equal } from "node:assert";
import { join } from "node:path";
import {
  archiveLegacy,
  ArchiveMoveError,
  type ArchiveOptions,
  archiveRecordPath,
  DUCKDB_COMPANION_SUFFIXES,
} from "../../legacy/parity.ts";
import { backfillLegacy } from "../../legacy/backfill.ts";
import { queryRuns } from "../../legacy/dual.ts";
import { readLegacyRows } from "../../legacy/read.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { REAL_FS, useDurableFs } from "../../ledger/durable_fs.ts";
import { exists } from "../../ledger/exists.ts";
import { createLegacyDb } from "./_legacy_fixture.ts";
import { withTempDir } from "../ledger/_helpers.ts";
import { denoScriptArgs, REPO_ROOT, runLedger } from "../_helpers.ts";

const CHILD = join(REPO_ROOT, "tests/legacy/_archive_child.ts");
/** How long the legacy writer child may take to say it holds its row. */
const WRITER_READY_MS_MAX = 30_000;

/**
 * A legacy file whose run `in-wal` is only in its `.wal` (its writer killed
 * with SIGKILL before a checkpoint), beside a `.wal.checkpoint` and a
 * `.wal.recovery` (the files DuckDB keeps while it checkpoints and
 * recovers), backfilled and indexed: parity holds.
 */
async function legacyWithCompanions(dir: string): Promise<{ legacyDbPath: string; root: string }> {
  const legacyDbPath = join(dir, "baseline_results.duckdb");
  const root = join(dir, "ledger");
  await createLegacyDb(legacyDbPath, [{ run_id: "in-file", created_at_ms: Date.UTC(2025, 11, 1) }]);
  const writer = new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CHILD, ["wal", legacyDbPath, "in-wal"]),
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = writer.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const timer = setTimeout(() => writer.kill("SIGKILL"), WRITER_READY_MS_MAX);
  let said = "";
  while (!said.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) break;
    said += value;
  }
  clearTimeout(timer);
  writer.kill("SIGKILL");
  await reader.cancel();
  equal((await writer.status).signal, "SIGKILL");
  ok(said.includes("ready"), `the legacy writer said ${JSON.stringify(said)}`);
  ok((await Deno.stat(`${legacyDbPath}.wal`)).size > 0, "the run is in the .wal");
  await Deno.writeTextFile(`${legacyDbPath}.wal.checkpoint`, "");
  await Deno.writeTextFile(`${legacyDbPath}.wal.recovery`, "");
  await backfillLegacy(root, { legacyDbPath });
  await rebuildIndex(root, {});
  return { legacyDbPath, root };
}

/** The run ids a legacy file lists. */
async function legacyIds(legacyDbPath: string): Promise<string[]> {
  const read = await readLegacyRows(legacyDbPath);
  ok(read.available, read.warnings.join("; "));
  return read.rows.map((r) => r.run_id).sort();
}

/** Which of the legacy file and its companions are at `path` + suffix. */
async function filesAt(path: string): Promise<string[]> {
  const out: string[] = [];
  for (const suffix of ["", ...DUCKDB_COMPANION_SUFFIXES]) {
    if (await exists(`${path}${suffix}`, { noFollow: true })) out.push(suffix || "(file)");
  }
  return out;
}

const ALL_FILES = ["(file)", ".wal", ".wal.checkpoint", ".wal.recovery"];

/** What `archiveLegacy(options)` throws when the rename of `failing` is refused (undefined: none). */
async function archiveFailingMove(failing: string, options: ArchiveOptions): Promise<unknown> {
  const restore = useDurableFs({
    ...REAL_FS,
    rename(from, to) {
      if (from === failing) {
        return Promise.reject(new Deno.errors.PermissionDenied("Operation not permitted"));
      }
      return REAL_FS.rename(from, to);
    },
  });
  try {
    await archiveLegacy(options);
    return undefined;
  } catch (err) {
    return err;
  } finally {
    restore();
  }
}

/**
 * Archive `dir`'s legacy file (`baseline_results.duckdb`, root `ledger`, both
 * named relative to `dir`) in a child killed with SIGKILL as it is about to
 * move the companion ending in `suffix`.
 */
async function killArchive(dir: string, suffix: string): Promise<void> {
  const killed = await new Deno.Command(Deno.execPath(), {
    args: denoScriptArgs(CHILD, ["archive", "baseline_results.duckdb", "ledger", suffix]),
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  equal(killed.signal, "SIGKILL", new TextDecoder().decode(killed.stderr));
}

Deno.test("legacy archive moves the file with every file DuckDB keeps beside it", async () => {
  await withTempDir(async (dir) => {
    const { legacyDbPath, root } = await legacyWithCompanions(dir);
    deepEqual(await legacyIds(legacyDbPath), ["in-file", "in-wal"]);
    const report = await archiveLegacy({ legacyDbPath, root });
    equal(report.resumed, false);
    deepEqual(
      report.movedAlso,
      [".wal", ".wal.checkpoint", ".wal.recovery"].map((s) => `${report.archivedPath}${s}`),
    );
    deepEqual(await filesAt(legacyDbPath), []);
    deepEqual(await filesAt(report.archivedPath), ALL_FILES);
    equal(await exists(archiveRecordPath(legacyDbPath)), false);
    deepEqual(await legacyIds(report.archivedPath), ["in-file", "in-wal"]);
  });
});

Deno.test("legacy archive whose move fails moves back what it moved, and says so", async () => {
  await withTempDir(async (dir) => {
    const { legacyDbPath, root } = await legacyWithCompanions(dir);
    const thrown = await archiveFailingMove(
      `${legacyDbPath}.wal.checkpoint`,
      { legacyDbPath, root, nowMs: Date.UTC(2026, 1, 3) },
    );
    ok(thrown instanceof ArchiveMoveError, String(thrown));
    equal(thrown.moved, false);
    ok(thrown.message.includes(`could not move ${legacyDbPath}.wal.checkpoint`), thrown.message);
    ok(thrown.message.endsWith("what was moved is moved back"), thrown.message);
    deepEqual(await filesAt(legacyDbPath), ALL_FILES);
    deepEqual(await filesAt(`${legacyDbPath}.archived-20260203T000000Z`), []);
    equal(await exists(archiveRecordPath(legacyDbPath)), false);
    // Nothing split: the next archive moves all four, and the archived file lists both runs.
    const report = await archiveLegacy({ legacyDbPath, root });
    deepEqual(await filesAt(report.archivedPath), ALL_FILES);
    deepEqual(await legacyIds(report.archivedPath), ["in-file", "in-wal"]);
  });
});

Deno.test("legacy archive killed between its moves is finished by the next archive", async () => {
  await withTempDir(async (dir) => {
    const { legacyDbPath, root } = await legacyWithCompanions(dir);
    // Started with relative paths in `dir`; finished below from another directory with absolute
    // ones (a review: the record held the paths as typed, and the finish looked elsewhere).
    await killArchive(dir, ".wal.checkpoint");
    // Killed after the file and its .wal moved: readers see no legacy file, and are told why.
    deepEqual(await filesAt(legacyDbPath), [".wal.checkpoint", ".wal.recovery"]);
    ok(await exists(archiveRecordPath(legacyDbPath)));
    const read = await readLegacyRows(legacyDbPath);
    equal(read.available, false);
    ok(read.warnings[0].endsWith("ledger legacy archive finishes it"), read.warnings[0]);
    // Dual mode has ended for readers: the index lists both runs, from the event log.
    const { runs } = await queryRuns({}, { root, legacyDbPath });
    deepEqual(runs.map((r) => r.run_id).sort(), ["in-file", "in-wal"]);

    // Finishing it, a move that fails leaves the record (moving back would split the pair).
    const thrown = await archiveFailingMove(`${legacyDbPath}.wal.recovery`, { legacyDbPath, root });
    ok(thrown instanceof ArchiveMoveError, String(thrown));
    equal(thrown.moved, true);
    ok(thrown.message.includes("ledger legacy archive finishes them"), thrown.message);
    ok(await exists(archiveRecordPath(legacyDbPath)));
    deepEqual(await filesAt(legacyDbPath), [".wal.recovery"]);

    const finished = await runLedger([
      "legacy",
      "archive",
      "--root",
      root,
      "--legacy-db",
      legacyDbPath,
    ]);
    equal(finished.code, 0, finished.stderr);
    const lines = finished.stdout.trim().split("\n");
    equal(lines[0], `finishing the archive interrupted earlier (${legacyDbPath}.archiving)`);
    ok(lines.includes("parity holds for 2 of 2 legacy run(s)"), finished.stdout);
    const archivedPath = lines.find((l) => l.startsWith("archived "))?.split(" -> ")[1] ?? "";
    deepEqual(await filesAt(legacyDbPath), []);
    deepEqual(await filesAt(archivedPath), ALL_FILES);
    equal(await exists(archiveRecordPath(legacyDbPath)), false);
    deepEqual(await legacyIds(archivedPath), ["in-file", "in-wal"]);
  });
});

Deno.test("an interrupted legacy archive is finished over no file, and refuses a bad record", async () => {
  await withTempDir(async (dir) => {
    const { legacyDbPath, root } = await legacyWithCompanions(dir);
    await killArchive(dir, ".wal");
    const record = JSON.parse(await Deno.readTextFile(archiveRecordPath(legacyDbPath)));
    // Something at a companion's archived name: kept, and the record kept to finish later.
    const inTheWay = join(dir, `${record.archivedPath}.wal`);
    await Deno.writeTextFile(inTheWay, "precious");
    await rejects(archiveLegacy({ legacyDbPath, root }), (err: unknown) => {
      ok(err instanceof ArchiveMoveError && err.moved, String(err));
      ok(err.message.startsWith(`${inTheWay} exists already`), err.message);
      return true;
    });
    equal(await Deno.readTextFile(inTheWay), "precious");
    ok(await exists(archiveRecordPath(legacyDbPath)));
    await Deno.remove(inTheWay);
    const report = await archiveLegacy({ legacyDbPath, root });
    equal(report.resumed, true);
    deepEqual(await filesAt(report.archivedPath), ALL_FILES);
    deepEqual(await legacyIds(report.archivedPath), ["in-file", "in-wal"]);
    // A record that is none: said, nothing moved.
    const other = join(dir, "other.duckdb");
    await createLegacyDb(other, []);
    for (const text of ["null", "{}", '{"archivedPath":"x","moves":[["../a","b"]],"parity":{}}']) {
      await Deno.writeTextFile(archiveRecordPath(other), text);
      await rejects(archiveLegacy({ legacyDbPath: other, root }), (err: unknown) => {
        ok(err instanceof ArchiveMoveError && !err.moved, String(err));
        ok(err.message.includes("is not the record of an archive"), err.message);
        return true;
      });
      ok(await exists(other));
    }
  });
});

// A review: a legacy file reached through a symbolic link was archived by moving the link, which
// left the file it leads to, and its .wal, where the legacy writer still finds them.
Deno.test("legacy archive of a symbolic link is refused, nothing moved", async () => {
  await withTempDir(async (dir) => {
    const real = join(dir, "shared.duckdb");
    await createLegacyDb(real, [{ run_id: "r", created_at_ms: Date.UTC(2025, 11, 1) }]);
    const root = join(dir, "ledger");
    await backfillLegacy(root, { legacyDbPath: real });
    await rebuildIndex(root, {});
    const legacyDbPath = join(dir, "baseline_results.duckdb");
    await Deno.symlink(real, legacyDbPath);
    const thrown = await archiveLegacy({ legacyDbPath, root }).then(() => undefined, (e) => e);
    ok(thrown instanceof ArchiveMoveError, String(thrown));
    equal(
      thrown.message,
      `${legacyDbPath} is a symbolic link to ${await Deno.realPath(real)}: archive that file ` +
        `itself (--legacy-db ${await Deno.realPath(
          real,
        )}), then remove the link; nothing was moved`,
    );
    ok((await Deno.lstat(legacyDbPath)).isSymlink);
    deepEqual(await filesAt(real), ["(file)"]);
    equal(await exists(archiveRecordPath(legacyDbPath)), false);
  });
});
