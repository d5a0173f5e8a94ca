/**
 * `ledger report` on a full disk says which file it could not write (a
 * probe: "ledger report: No space left on device (os error 28)" alone), and
 * leaves nothing beside `--out`. On a small tmpfs, when this process may
 * mount one (root); ignored with the reason otherwise.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { tmpfsUnavailable, withTmpfs } from "../_tmpfs.ts";
import { emitAndIndex } from "../report/_fixture.ts";

const TMPFS_UNAVAILABLE = await tmpfsUnavailable();
if (TMPFS_UNAVAILABLE !== undefined) {
  console.log(`ignored: report on a full disk: cannot mount a tmpfs (${TMPFS_UNAVAILABLE})`);
}

Deno.test({
  name: "report: a full disk names --out, exit 1, no file left",
  ignore: TMPFS_UNAVAILABLE !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const t0 = Date.UTC(2026, 0, 20);
      await emitAndIndex(
        root,
        [
          { event_type: "run.created", run_type: "policy", config: {}, data_fingerprint: "fp" },
          { event_type: "run.completed", summary: { win_rate: 0.5 }, artifact_paths: {} },
        ].map((e, k) => ({ ...e, run_id: "r1", timestamp_ms: t0 + k })),
      );
      const mnt = join(dir, "small");
      await withTmpfs(mnt, 64, async () => {
        await Deno.writeFile(join(mnt, "fill"), new Uint8Array(60 * 1024)).catch((err) => {
          if (!(err instanceof Error && /space/i.test(err.message))) throw err;
        });
        const out = join(mnt, "r.html");
        const r = await runLedger(["report", "--root", root, "--out", out]);
        assert.equal(r.code, 1, r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], /cannot write .*r\.html.*(space|os error 28)/i);
        const left = [];
        for await (const e of Deno.readDir(mnt)) left.push(e.name);
        assert.deepEqual(left, ["fill"]);
      });
    });
  },
});
