/**
 * `compare`'s `same_data`: every run has the same data fingerprint, and one
 * that says something. A probe: `emit --data-fingerprint ''` is taken, and
 * two such runs compared as the same data, though nothing is known of it.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";

Deno.test("compare: same_data needs one fingerprint that is not blank", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-same-data-" });
  try {
    const runs: [string, string][] = [
      ["fp-a1", "fp-1"],
      ["fp-a2", "fp-1"],
      ["fp-b", "fp-2"],
      ["blank-1", ""],
      ["blank-2", ""],
      ["spaces", "  "],
    ];
    for (const [id, fingerprint] of runs) {
      const r = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.created", "--run-id", id],
        ...["--run-type", "policy", "--config", "{}", "--data-fingerprint", fingerprint],
      ]);
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const same = async (ids: string[]) => {
      const r = await runLedger(["compare", ...ids, "--root", root, "--json"]);
      equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).same_data;
    };
    deepEqual(
      [
        await same(["fp-a1", "fp-a2"]),
        await same(["fp-a1", "fp-b"]),
        await same(["blank-1", "blank-2"]),
        await same(["spaces", "spaces"].slice(0, 1).concat("blank-1")),
      ],
      [true, false, false, false],
    );
    // The table says it too.
    const table = await runLedger(["compare", "blank-1", "blank-2", "--root", root]);
    equal(table.code, 0, table.stderr);
    equal(/same data\s+no/.test(table.stdout), true, table.stdout);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
