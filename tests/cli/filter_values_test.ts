/**
 * `--where` values as a quant writes them: `= true` matches a stored true
 * only (not 1 or "yes", which a cast to BOOLEAN took), and `= 1` never
 * matches true: no loose equality either way.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";

Deno.test("--where: booleans match stored booleans only", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-filter-values-" });
  try {
    const configs: [string, string][] = [
      ["b-true", '{"dry":true}'],
      ["b-one", '{"dry":1}'],
      ["b-yes", '{"dry":"yes"}'],
      ["b-false", '{"dry":false}'],
    ];
    for (const [id, config] of configs) {
      const r = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.created", "--run-id", id],
        ...["--run-type", "policy", "--config", config, "--data-fingerprint", "f"],
      ]);
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const ids = async (where: string) => {
      const r = await runLedger(["runs", "--root", root, "--where", where, "--format", "jsonl"]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).run_id)
        .sort();
    };
    deepEqual(await ids("config.dry = true"), ["b-true"]);
    deepEqual(await ids("config.dry = false"), ["b-false"]);
    deepEqual(await ids("config.dry = 1"), ["b-one"]);
    deepEqual(await ids("config.dry != true"), ["b-false", "b-one", "b-yes"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
