/**
 * Findings of a black-box recheck of the query surface (SPEC 11), each
 * driven through the real CLI on a log written by hand.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

async function buildIndex(root: string, runs: [string, unknown][]): Promise<void> {
  const lines = runs.flatMap(([runId, config], i) => [
    ev("run.created", runId, T0 + i * 60_000, { run_type: "p", config, data_fingerprint: "f" }),
  ]);
  await writePart(root, join("day=2026-01-20", "recheck.jsonl"), lines);
  await rebuildIndex(root, {});
}

Deno.test("compare: the same value with its keys in another order does not differ", async () => {
  await withTempDir(async (root) => {
    // A ladder's levels written by two tools: the same objects, keys in another order.
    await buildIndex(root, [
      ["k1", { levels: [{ multiple: 2, fraction: 0.5 }], fee: 10 }],
      ["k2", { levels: [{ fraction: 0.5, multiple: 2 }], fee: 20 }],
    ]);
    const r = await runLedger(["compare", "--root", root, "k1", "k2", "--json"]);
    equal(r.code, 0, r.stderr);
    deepEqual(JSON.parse(r.stdout).config, { fee: { k1: 10, k2: 20 } });
  });
});
