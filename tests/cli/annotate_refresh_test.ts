/**
 * An annotation command whose last index refresh fails (the index's disk
 * full) has written its event: it says so as a warning and exits 0, so a
 * script that retries on failure does not write the note twice. Its first
 * refresh, of an index already up to date, does not copy the index: on a
 * disk with room for one index and not two it gets as far as writing.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { readLog } from "../../ledger/reader.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { tmpfsUnavailable, withTmpfs } from "../_tmpfs.ts";

const TMPFS_UNAVAILABLE = await tmpfsUnavailable();
if (TMPFS_UNAVAILABLE !== undefined) {
  console.log(`ignored: an index on a full tmpfs: cannot mount one (${TMPFS_UNAVAILABLE})`);
}

Deno.test({
  name: "note: the index refresh after writing fails for a full disk: a warning, exit 0, one note",
  ignore: TMPFS_UNAVAILABLE !== undefined,
}, async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const created = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "full-1"],
      ...["--run-type", "policy", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    assert.equal(created.code, 0, created.stderr);
    // The index's size decides the disk's: room for it and half of another.
    const sized = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(sized.code, 0, sized.stderr);
    const indexBytes = (await Deno.stat(join(root, "index", "runs.duckdb"))).size;
    const mnt = join(dir, "mnt");
    await withTmpfs(mnt, Math.ceil((indexBytes * 1.5) / 1024), async () => {
      const db = join(mnt, "runs.duckdb");
      const built = await runLedger(["rebuild-index", "--root", root, "--db", db]);
      assert.equal(built.code, 0, built.stderr);

      const noted = await runLedger([
        "note",
        "--root",
        root,
        "--db",
        db,
        "full-1",
        "fees were wrong",
      ]);
      assert.equal(noted.code, 0, noted.stderr);
      assert.equal(noted.stdout.trim(), "noted full-1");
      const warning = noted.stderr.trim().split("\n");
      assert.equal(warning.length, 1, noted.stderr);
      assert.match(
        warning[0],
        /^ledger note: warning: index not refreshed \(.*No space left on device.*\); the run\.noted is in the log: run ledger rebuild-index or the daemon$/,
      );
      const log = await Array.fromAsync(readLog(root));
      const notes = log.filter((r) => r.kind === "event" && r.event.event_type === "run.noted");
      assert.equal(notes.length, 1);

      // The index is as it was, readable; a rebuild elsewhere has the note.
      const shown = await runLedger(["show", "--root", root, "--db", db, "full-1", "--json"]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.deepEqual(JSON.parse(shown.stdout).notes ?? [], []);
      const elsewhere = join(dir, "other.duckdb");
      assert.equal((await runLedger(["rebuild-index", "--root", root, "--db", elsewhere])).code, 0);
      const after = await runLedger([
        "show",
        "--root",
        root,
        "--db",
        elsewhere,
        "full-1",
        "--json",
      ]);
      assert.equal(after.code, 0, after.stderr);
      assert.equal(JSON.parse(after.stdout).notes.length, 1);
    });
  });
});

// A probe: a run emitted after the last rebuild (or with no index yet) was "not in the index",
// though the commands refresh the index before they write.
Deno.test("tag and note: a run the log has and the index not yet is found by the refresh", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const create = (id: string) =>
      runLedger([
        ...["emit", "--root", root, "--event-type", "run.created", "--run-id", id],
        ...["--run-type", "policy", "--config", "{}", "--data-fingerprint", "f"],
      ]);
    assert.equal((await create("first-1")).code, 0);
    const noIndex = await runLedger(["tag", "--root", root, "first-1", "desk=a"]);
    assert.equal(noIndex.code, 0, noIndex.stderr);
    assert.equal((await create("later-1")).code, 0);
    const noted = await runLedger(["note", "--root", root, "later-1", "hello"]);
    assert.equal(noted.code, 0, noted.stderr);
    const shown = await runLedger(["show", "later-1", "--json", "--root", root]);
    assert.deepEqual(JSON.parse(shown.stdout).notes.map((n: { note: string }) => n.note), [
      "hello",
    ]);
    // An id no run has: refused as before, exit 1, nothing written.
    const before = (await Array.fromAsync(readLog(root))).length;
    const unknown = await runLedger(["tag", "--root", root, "no-such-run", "desk=a"]);
    assert.equal(unknown.code, 1, unknown.stderr);
    assert.match(unknown.stderr, /Run "no-such-run" is not in the index/);
    assert.equal((await Array.fromAsync(readLog(root))).length, before);
  });
});
