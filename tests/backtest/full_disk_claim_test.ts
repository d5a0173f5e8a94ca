/**
 * A backtest that failed on a full disk before any event of it reached the
 * log leaves its run directory empty; a probe found the same `--run-id`,
 * once space was freed, refused as taken ("its run directory exists", exit
 * 2) though the log had no event of it, and nothing said how to free it.
 * The directory is not taken over (a process that wrote nothing may still
 * run: a review ran two backtests under one id so): the refusal says it is
 * empty and that the log has no event of the run, and to remove it.
 * On a small tmpfs, when this process may mount one (root); ignored, with
 * the reason, otherwise.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";
import { tmpfsUnavailable, withTmpfs } from "../_tmpfs.ts";

const TMPFS_UNAVAILABLE = await tmpfsUnavailable();
if (TMPFS_UNAVAILABLE !== undefined) {
  console.log(`ignored: backtest on a full disk: cannot mount a tmpfs (${TMPFS_UNAVAILABLE})`);
}

Deno.test({
  name:
    "backtest: the empty run directory a full disk left is named in the refusal, and freed by hand",
  ignore: TMPFS_UNAVAILABLE !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const mnt = join(dir, "small");
      await withTmpfs(mnt, 1024, async () => {
        const root = join(mnt, "root");
        await Deno.mkdir(join(root, "events"), { recursive: true });
        const filler = join(mnt, "filler");
        await Deno.writeFile(filler, new Uint8Array(1024 * 1024)).catch((err) => {
          if (!(err instanceof Error && /space/i.test(err.message))) throw err;
        });
        const args = [
          "backtest",
          "path-only",
          "--root",
          root,
          "--no-index",
          "--run-id",
          "full-1",
          "--calls",
          join(REPO_ROOT, "data/sample/calls.csv"),
          "--candles",
          join(REPO_ROOT, "data/sample/candles_1m.parquet"),
        ];
        const full = await runLedger(args);
        assert.equal(full.code, 1, full.stderr);
        assert.match(full.stderr, /space|os error 28/i);
        const runDir = join(root, "artifacts", "runs", "full-1");
        assert.deepEqual(await Array.fromAsync(Deno.readDir(runDir)), []); // empty, not removed
        await Deno.remove(filler);
        const refused = await runLedger(args);
        assert.equal(refused.code, 2, refused.stderr);
        assert.match(
          refused.stderr,
          /Run id full-1 is taken \(its run directory .*full-1 exists, empty, and the log has no event of the run: .*remove the directory if no process uses it\)/,
        );
        await Deno.remove(runDir);
        const again = await runLedger(args);
        assert.equal(again.code, 0, again.stderr);
        assert.ok((await Deno.stat(join(runDir, "manifest.json"))).isFile);
      });
    });
  },
});
