/**
 * Disk full and read-only: a write that fails returns an error to the caller,
 * acknowledges nothing it did not write, and leaves the log readable (reader,
 * `ledger verify`, rebuild). Uses a 64 KiB tmpfs when this process may mount
 * one (root), remounted read-only for the read-only case; `ulimit -f` (EFBIG)
 * runs everywhere as the fallback that never skips.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { RebuildError, rebuildIndex } from "../../indexer/rebuild.ts";
import {
  CLI_PATH,
  denoScriptArgs,
  indexedIds,
  readCheckedLog,
  REPO_ROOT,
  runLedger,
  withTempDir,
} from "../_helpers.ts";
import { quote, sh, tmpfsUnavailable, withTmpfs } from "../_tmpfs.ts";

const FILL_CHILD = new URL("./_fill_child.ts", import.meta.url).pathname;
/** Size of the tmpfs, in KiB. */
const TMPFS_KIB = 64;
/** File size limit of the fallback (`ulimit -f`, 1 KiB blocks). */
const FILE_KIB_MAX = 64;

function emitArgs(root: string, runId: string): string[] {
  return ["emit", "--root", root, "--event-type", "run.started", "--run-id", runId];
}

/** A failed emit: exit 1, no id on stdout, one line naming `pattern`. */
function assertEmitFailed(r: { code: number; stdout: string; stderr: string }, pattern: RegExp) {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stdout, "", "nothing acknowledged");
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, pattern);
}

const TMPFS_UNAVAILABLE = await tmpfsUnavailable();
if (TMPFS_UNAVAILABLE !== undefined) {
  console.log(
    `ignored: disk full on a tmpfs: cannot mount one (${TMPFS_UNAVAILABLE}); ` +
      "the ulimit -f test still runs",
  );
}

Deno.test({
  name: "disk full and read-only: on a 64 KiB tmpfs",
  ignore: TMPFS_UNAVAILABLE !== undefined,
}, async (t) => {
  await withTempDir(async (dir) => {
    const mnt = join(dir, "mnt");
    await withTmpfs(mnt, TMPFS_KIB, async () => {
      const root = join(mnt, "ledger");
      const acked: string[] = [];

      await t.step(
        "a writer filling the disk gets a WriteError and keeps what it acknowledged",
        async () => {
          const out = await new Deno.Command(Deno.execPath(), {
            args: denoScriptArgs(FILL_CHILD, [root, "3000"]),
            cwd: REPO_ROOT,
            stdout: "piped",
            stderr: "piped",
          }).output();
          const lines = new TextDecoder().decode(out.stdout).trim().split("\n");
          assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
          const failure = lines.pop()!;
          assert.match(failure, /^FAILED WriteError: Cannot write .*No space left on device/);
          assert.ok(lines.length > 0, "some appends fit");
          acked.push(...lines);
          const log = await readCheckedLog(root);
          assert.deepEqual(acked.filter((id) => !log.ids.has(id)), [], "acknowledged = in the log");
          assert.equal(log.events, acked.length, "the failed event was not written whole");
        },
      );

      await t.step("ledger emit on the full disk exits 1 and prints no id", async () => {
        const r = await runLedger(emitArgs(root, "full"));
        assertEmitFailed(r, /No space left on device/);
        assert.equal((await readCheckedLog(root)).events, acked.length);
      });

      await t.step("the log stays readable: verify, and a rebuild elsewhere", async () => {
        const v = await runLedger(["verify", "--root", root]);
        assert.equal(v.code, 0, v.stdout + v.stderr);
        const db = join(dir, "index.duckdb");
        await rebuildIndex(root, { dbPath: db });
        const ids = await indexedIds(db);
        assert.deepEqual(acked.filter((id) => !ids.has(id)), []);
      });

      await t.step("a rebuild into the full disk fails cleanly", async () => {
        await assert.rejects(rebuildIndex(root), RebuildError);
        assert.equal((await readCheckedLog(root)).events, acked.length);
      });

      await t.step("read-only: emit exits 1 naming it, verify still reads", async () => {
        const ro = await sh(`mount -o remount,ro ${quote(mnt)}`);
        assert.equal(ro.code, 0, ro.stderr);
        const r = await runLedger(emitArgs(root, "ro"));
        assertEmitFailed(r, /Read-only file system/);
        const v = await runLedger(["verify", "--root", root, "--json"]);
        assert.equal(v.code, 0, v.stderr);
        assert.equal(JSON.parse(v.stdout).totals.events, acked.length);
      });
    });
  });
});

Deno.test({
  name: "disk full: a backtest that runs out of space leaves no temporary file",
  ignore: TMPFS_UNAVAILABLE !== undefined,
}, async () => {
  await withTempDir(async (dir) => {
    const mnt = join(dir, "mnt");
    await withTmpfs(mnt, TMPFS_KIB, async () => {
      // The disk fills at different points of the run: an artifact, the manifest, the log.
      for (const fillKib of [0, 8, 32, 48]) {
        await sh(
          `rm -rf ${quote(mnt)}/* && ` +
            (fillKib === 0
              ? "true"
              : `dd if=/dev/zero of=${quote(mnt)}/fill bs=1k count=${fillKib}`),
        );
        const root = join(mnt, "ledger");
        const r = await runLedger([
          ...["backtest", "policy", "--root", root, "--no-index"],
          ...["--calls", join(REPO_ROOT, "data/sample/calls.csv")],
          ...["--candles", join(REPO_ROOT, "data/sample/candles_1m.parquet")],
          ...["--policy", '{"type":"fixed_stop","stopPct":0.2}'],
        ]);
        assert.equal(r.code, 1, `filled ${fillKib} KiB: ${r.stderr}`);
        assert.match(r.stderr, /No space left on device/);
        const left = await sh(`find ${quote(mnt)} -name '*.tmp-*'`);
        assert.equal(left.stdout, "", `filled ${fillKib} KiB: temporary files left`);
      }
    });
  });
});

Deno.test("disk full fallback: a file size limit (EFBIG) fails emit --stdin cleanly", async () => {
  await withTempDir(async (root) => {
    const first = await runLedger(emitArgs(root, "before"));
    assert.equal(first.code, 0, first.stderr);
    const batch = Array.from(
      { length: 100 },
      (_, i) =>
        JSON.stringify({ event_type: "run.started", run_id: "big", blob: "y".repeat(1000), i }),
    )
      .join("\n");
    const batchFile = join(root, "..", `${root.split("/").pop()}-batch.jsonl`);
    await Deno.writeTextFile(batchFile, batch);
    try {
      const command = [
        Deno.execPath(),
        ...denoScriptArgs(CLI_PATH, ["emit", "--root", root, "--stdin"]),
      ]
        .map(quote).join(" ");
      // SIGXFSZ ignored (inherited through exec): the write fails with EFBIG instead of killing.
      const r = await sh(
        `trap '' XFSZ; ulimit -f ${FILE_KIB_MAX} && exec ${command} < ${quote(batchFile)}`,
      );
      assertEmitFailed(r, /File too large/);
    } finally {
      await Deno.remove(batchFile);
    }
    const log = await readCheckedLog(root); // whole lines, at most a torn tail
    assert.ok(log.ids.has(first.stdout.trim()));
    // All or nothing: the writer truncated the part back, so none of the 100 remain.
    assert.equal(log.events, 1, "no event of the failed batch stays in the log");
    // Rolled back, the batch leaves no record of a writer that died (an audit: verify said so).
    const pending = [];
    for await (const e of Deno.readDir(join(root, "events", ".pending"))) pending.push(e.name);
    assert.deepEqual(pending, []);
    const before = await runLedger(["verify", "--root", root]);
    assert.equal(before.code, 0, before.stdout);
    assert.doesNotMatch(before.stdout + before.stderr, /died/);
    const after = await runLedger(emitArgs(root, "after"));
    assert.equal(after.code, 0, after.stderr);
    const v = await runLedger(["verify", "--root", root, "--strict"]);
    assert.equal(v.code, 0, v.stdout); // --strict: not even a torn tail is left
  });
});
