/**
 * A failed run's phase, as its `run.failed` names it (`phase_name`), is said
 * by `ledger show` (text and `--json`'s `failed_phase`) and by the report's
 * run view. A probe found it in the index (`runs_status.failed_phase`) and
 * nowhere a user looks.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("a failed run's phase is in show, show --json and the report", async () => {
  await withTempDir(async (root) => {
    const created = { run_type: "policy", config: {}, data_fingerprint: "fp" };
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      ev("run.created", "named", T0, created),
      ev("run.started", "named", T0 + 1, { host: "h", pid: 1 }),
      ev("phase.started", "named", T0 + 2, { phase_name: "load", phase_order: 0 }),
      ev("run.failed", "named", T0 + 3, { error: { message: "boom" }, phase_name: "load" }),
      ev("run.created", "unnamed", T0 + 10, created),
      ev("run.failed", "unnamed", T0 + 11, { error: { message: "boom" } }),
    ]);
    await rebuildIndex(root, {});

    const text = await runLedger(["show", "named", "--root", root]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^failed {5}2026-01-20T\S+Z in phase load$/m);
    const plain = await runLedger(["show", "unnamed", "--root", root]);
    assert.match(plain.stdout, /^failed {5}2026-01-20T\S+Z$/m);

    const json = await runLedger(["show", "named", "--root", root, "--json"]);
    assert.equal(JSON.parse(json.stdout).run.failed_phase, "load");
    const none = await runLedger(["show", "unnamed", "--root", root, "--json"]);
    assert.equal(JSON.parse(none.stdout).run.failed_phase, null);

    const out = join(root, "r.html");
    const made = await runLedger(["report", "named", "unnamed", "--root", root, "--out", out]);
    assert.equal(made.code, 0, made.stderr);
    const errors = [...(await Deno.readTextFile(out)).matchAll(/<h2>(Error[^<]*)<\/h2>/g)]
      .map((m) => m[1]);
    assert.deepEqual(errors, ["Error in phase load", "Error"]);
  });
});
