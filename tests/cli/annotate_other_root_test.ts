/**
 * An index records the root it was built from (`index_meta` key `root`).
 * A bad-input probe: `tag bonly k=v --root A --db B/index/runs.duckdb` found
 * the run in B's index, appended the tag to A's log (a run A never had),
 * then rebuilt B's index from A's log: `ledger runs --root B` listed A's runs
 * (exit 0, nothing said). The annotation commands now refuse another root's
 * index (exit 2, nothing written), and a rebuild into another root's index
 * rebuilds it in full from this root's log instead of updating it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { hashTree, runLedger, withTempDir } from "../_helpers.ts";

Deno.test("tag, note, archive and restore refuse the index of another root", async () => {
  await withTempDir(async (dir) => {
    const roots = { a: join(dir, "a"), b: join(dir, "b") };
    for (const [name, root] of Object.entries(roots)) {
      const r = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.created", "--run-id", `${name}only`],
        ...["--run-type", "x", "--config", "{}", "--data-fingerprint", "f"],
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    }
    const bIndex = join(roots.b, "index", "runs.duckdb");
    const before = [await hashTree(roots.a), await hashTree(roots.b)];
    for (
      const args of [["tag", "bonly", "k=v"], ["note", "bonly", "hello"], ["archive", "bonly"], [
        "restore",
        "bonly",
      ]]
    ) {
      const r = await runLedger([...args, "--root", roots.a, "--db", bIndex]);
      assert.equal(r.code, 2, `${args[0]}: ${r.stderr}`);
      assert.equal(
        r.stderr.trim(),
        `ledger ${args[0]}: --db ${bIndex} is the index of the root ${roots.b}, not of ` +
          `${roots.a}: give that --root, or this root's own index (no --db); nothing was written`,
      );
    }
    assert.deepEqual([await hashTree(roots.a), await hashTree(roots.b)], before);
    // Its own root's index is taken as before.
    const own = await runLedger(["tag", "bonly", "k=v", "--root", roots.b, "--db", bIndex]);
    assert.equal(own.code, 0, own.stderr);
    // A root copied elsewhere (its index records the old path): its own index, no --db, is
    // taken (a review: refused), and the refresh rebuilds it for the new path.
    const copy = join(dir, "copy");
    const copied = await new Deno.Command("cp", { args: ["-a", roots.b, copy] }).output();
    assert.equal(copied.code, 0);
    const moved = await runLedger(["note", "bonly", "after the move", "--root", copy]);
    assert.equal(moved.code, 0, moved.stderr);
    // Its own index named with --db is its own too (a review: refused), as is an index kept
    // at a path of its own inside the copied root.
    const ownDb = await runLedger([
      ...["tag", "bonly", "k=v2", "--root", copy, "--db", join(copy, "index", "runs.duckdb")],
    ]);
    assert.equal(ownDb.code, 0, ownDb.stderr);
    const custom = join(roots.b, "custom.duckdb");
    assert.equal((await runLedger(["rebuild-index", "--root", roots.b, "--db", custom])).code, 0);
    const copy2 = join(dir, "copy2");
    assert.equal((await new Deno.Command("cp", { args: ["-a", roots.b, copy2] }).output()).code, 0);
    const inside = await runLedger([
      ...["rebuild-index", "--root", copy2, "--db", join(copy2, "custom.duckdb")],
    ]);
    assert.equal(inside.code, 0, inside.stderr);
    // But a root nested in this one keeps its index (a review: let through as "inside").
    const nested = join(copy2, "nested");
    for (
      const args of [["emit", ...["--event-type", "run.noted", "--run-id", "n1", "--note", "x"]]]
    ) {
      assert.equal((await runLedger([...args, "--root", nested])).code, 0);
    }
    assert.equal((await runLedger(["rebuild-index", "--root", nested])).code, 0);
    const nestedDb = join(nested, "index", "runs.duckdb");
    const intoNested = await runLedger(["rebuild-index", "--root", copy2, "--db", nestedDb]);
    assert.equal(intoNested.code, 1, intoNested.stderr);
    assert.match(intoNested.stderr, /is the index of the root .*nested, whose log is still there/);
    // rebuild-index says why a moved root's index is read in full (a review: only --verbose).
    const again = join(dir, "again");
    assert.equal((await new Deno.Command("cp", { args: ["-a", roots.b, again] }).output()).code, 0);
    const rebuilt = await runLedger(["rebuild-index", "--root", again]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.equal(
      rebuilt.stderr.trim(),
      `ledger rebuild-index: the index was built from the root ${roots.b}: rebuilt in full`,
    );
    assert.match(rebuilt.stdout, /\(full: read/);

    // rebuild-index --db of another root's index whose log is still there: refused, the index
    // unchanged (a review: it was made this root's, exit 0, and B's readers listed A's runs).
    // (Its rebuild lock file records the last pid to take it: not compared.)
    const bState =
      async () => [await hashTree(join(roots.b, "events")), await Deno.readFile(bIndex)];
    const bBefore = await bState();
    for (const command of ["rebuild-index", "daemon"]) {
      const refused = await runLedger([command, "--root", roots.a, "--db", bIndex]);
      assert.equal(refused.code, 1, refused.stderr);
      assert.ok(
        refused.stderr.trim().endsWith(
          `ledger ${command}: Rebuild refused (nothing was changed): ${bIndex} is the index of ` +
            `the root ${roots.b}, whose log is still there: not replacing it with this root's ` +
            `index (give --root ${roots.b}, or --full to replace it)`,
        ),
        refused.stderr,
      );
      assert.deepEqual(await bState(), bBefore);
    }
    // Asked for with --full, or once that root's log is gone, it is rebuilt from this root's log.
    const bCopy = join(dir, "b-copy.duckdb");
    await Deno.copyFile(bIndex, bCopy);
    const full = await runLedger(["rebuild-index", "--root", roots.a, "--db", bCopy, "--full"]);
    assert.equal(full.code, 0, full.stderr);
    await Deno.remove(join(roots.b, "events"), { recursive: true });
    const progress: string[] = [];
    const report = await rebuildIndex(roots.a, {
      dbPath: bIndex,
      onProgress: (m) => progress.push(m),
    });
    assert.equal(report.mode, "full");
    assert.ok(
      progress.some((m) => m.startsWith(`the index was built from the root ${roots.b}:`)),
      progress.join("\n"),
    );
  });
});
