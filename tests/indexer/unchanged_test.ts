/**
 * An incremental rebuild with nothing to read leaves the index as it is:
 * not copied and published again (`RebuildReport.unchanged`), so a
 * refresh of a current index costs a listing and a read-only look, not a
 * copy of the whole index (`ledger tag` refreshes before it writes). Each
 * thing an update would change makes it the ordinary update again: a part
 * grown, rewritten at its size, removed or added, another `staleAfterMs`,
 * and the process of a running run on this host that ended (a run killed
 * writes nothing: only the liveness check marks it stale).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { ev, fullRun, query, T0, writePart } from "./_fixtures.ts";

const DAY = "day=2026-01-20";

/** The index file's inode and modification time: the same only if it was not published again. */
async function identity(db: string): Promise<string> {
  const info = await Deno.stat(db);
  return `${info.ino}@${info.mtime?.getTime()}`;
}

Deno.test("rebuild: an index up to date with the log is left as it is", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-unchanged-" });
  const db = join(root, "index", "runs.duckdb");
  const sleeper = new Deno.Command("sleep", { args: ["60"] }).spawn();
  let killed = false;
  try {
    const part = await writePart(root, `${DAY}/a.jsonl`, fullRun("r1", T0));
    await writePart(root, `${DAY}/b.jsonl`, fullRun("r2", T0 + 1_000));
    const first = await rebuildIndex(root);
    assert.equal(first.mode, "full");
    assert.equal(first.unchanged, undefined);

    await t.step("nothing changed: not published again, the same counts", async () => {
      const before = await identity(db);
      const again = await rebuildIndex(root);
      assert.equal(again.unchanged, true);
      assert.equal(again.mode, "incremental");
      assert.deepEqual(
        [again.events, again.runs, again.filesRead, again.filesScanned],
        [first.events, first.runs, 0, 2],
      );
      assert.equal(await identity(db), before);
      assert.deepEqual(
        await Array.fromAsync(Deno.readDir(join(root, "index")), (e) => e.name).then((n) =>
          n.sort()
        ),
        [
          ".runs.duckdb.rebuild.lock",
          "runs.duckdb",
        ],
      );
    });

    await t.step("a part grown: updated", async () => {
      await writePart(root, `${DAY}/a.jsonl`, [ev("run.noted", "r1", T0 + 90, { note: "n" })], {
        append: true,
      });
      const grown = await rebuildIndex(root);
      assert.equal(grown.unchanged, undefined);
      assert.equal(grown.events, first.events + 1);
      assert.equal((await rebuildIndex(root)).unchanged, true);
    });

    await t.step("a part rewritten at its size (another mtime): updated", async () => {
      const text = await Deno.readTextFile(part);
      await Deno.writeTextFile(part, text.replace('"note":"n"', '"note":"m"'));
      await Deno.utime(part, new Date(), new Date(Date.now() + 5_000));
      const rewritten = await rebuildIndex(root);
      assert.equal(rewritten.unchanged, undefined);
      const notes = await query(db, "SELECT note FROM events WHERE event_type = 'run.noted'");
      assert.deepEqual(notes.map((r) => r.note), ["m"]);
    });

    await t.step("a part removed, then one added: updated each time", async () => {
      await Deno.remove(join(root, "events", DAY, "b.jsonl"));
      const removed = await rebuildIndex(root);
      assert.equal(removed.unchanged, undefined);
      assert.equal(removed.runs, 1);
      await writePart(root, `${DAY}/c.jsonl`, fullRun("r3", T0 + 2_000));
      const added = await rebuildIndex(root);
      assert.equal(added.unchanged, undefined);
      assert.equal(added.runs, 2);
    });

    await t.step("a file named to read again: updated", async () => {
      const named = await rebuildIndex(root, { rereadFiles: [`${DAY}/a.jsonl`] });
      assert.equal(named.unchanged, undefined);
      assert.equal(named.filesRead, 1);
    });

    await t.step("liveness rows of another host: updated, they go", async () => {
      // As an index built on another machine, or before this one was renamed, holds them.
      const instance = await DuckDBInstance.create(db);
      const conn = await instance.connect();
      await conn.run(
        "INSERT INTO process_liveness (host, pid, alive, checked_at_ms, started_at_ms) " +
          "VALUES ('elsewhere', 42, false, 0, NULL)",
      );
      conn.disconnectSync();
      instance.closeSync();
      const other = await rebuildIndex(root);
      assert.equal(other.unchanged, undefined);
      assert.deepEqual(await query(db, "SELECT host FROM process_liveness"), []);
      assert.equal((await rebuildIndex(root)).unchanged, true);
    });

    await t.step("another staleAfterMs: updated; the same one: left", async () => {
      const other = await rebuildIndex(root, { staleAfterMs: 3_600_000 });
      assert.equal(other.unchanged, undefined);
      assert.equal((await rebuildIndex(root, { staleAfterMs: 3_600_000 })).unchanged, true);
      assert.equal((await rebuildIndex(root)).unchanged, true); // the index's own value kept
    });

    await t.step("the process of a running run ended: updated, the run stale", async () => {
      const now = Date.now();
      await writePart(root, `day=${new Date(now).toISOString().slice(0, 10)}/live.jsonl`, [
        ev("run.created", "live", now - 10, { run_type: "x", config: {}, data_fingerprint: "" }),
        ev("run.started", "live", now - 5, { host: Deno.hostname(), pid: sleeper.pid }),
      ]);
      assert.equal((await rebuildIndex(root)).unchanged, undefined);
      const status = async () =>
        (await query(db, "SELECT status FROM latest_runs WHERE run_id = 'live'"))[0].status;
      assert.equal(await status(), "running");
      const alive = await rebuildIndex(root);
      assert.equal(alive.unchanged, true, "the run's process is still alive");
      sleeper.kill("SIGKILL");
      killed = true;
      await sleeper.status;
      const ended = await rebuildIndex(root);
      assert.equal(ended.unchanged, undefined);
      assert.equal(await status(), "stale");
      assert.equal((await rebuildIndex(root)).unchanged, true);
    });
  } finally {
    if (!killed) sleeper.kill("SIGKILL");
    await sleeper.status;
    await Deno.remove(root, { recursive: true });
  }
});
