/**
 * `ledger compare` of a run whose `caller_summary.parquet` cannot be read
 * (garbage, cut short) failed the whole comparison (the report audit's
 * note). Its per-caller results now come from its summary, as for a run
 * without the file, with one warning naming the file; the JSON keeps SPEC
 * 11's keys.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("compare: an unreadable caller_summary.parquet is said, and the summary stands in", async () => {
  await withTempDir(async (root) => {
    for (const [id, winRate] of [["cmp-a", 0.4], ["cmp-b", 0.6]] as const) {
      const created = await runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.created",
        "--run-id",
        id,
        "--run-type",
        "policy",
        "--config",
        "{}",
        "--data-fingerprint",
        "f",
      ]);
      assert.equal(created.code, 0, created.stderr);
      const summary = { by_caller: { alice: { calls: 3, win_rate: winRate } } };
      const completed = await runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.completed",
        "--run-id",
        id,
        "--summary",
        JSON.stringify(summary),
        "--artifact-paths",
        "{}",
      ]);
      assert.equal(completed.code, 0, completed.stderr);
    }
    const dir = join(root, "artifacts", "runs", "cmp-a");
    await Deno.mkdir(dir, { recursive: true });
    const garbage = join(dir, "caller_summary.parquet");
    await Deno.writeTextFile(garbage, "garbage\n");
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const r = await runLedger(["compare", "--root", root, "cmp-a", "cmp-b", "--json"]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(
      lines[0],
      /^ledger compare: warning: run cmp-a: .*caller_summary\.parquet could not/,
    );
    const c = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(c), [
      "runs",
      "same_data",
      "config",
      "summary",
      "phases",
      "callers",
      "git",
    ]);
    assert.deepEqual(c.callers.alice, {
      "cmp-a": { calls: 3, win_rate: 0.4 },
      "cmp-b": { calls: 3, win_rate: 0.6 },
    });
  });
});
