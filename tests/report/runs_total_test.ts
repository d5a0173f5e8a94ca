/**
 * `ledger report` of more runs than it holds says how many it holds of how
 * many on its terminal line, as the page says it. A probe: the line said
 * "500 runs" of an index of 621, the page "the newest 500 of 621".
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { emitAndIndex } from "./_fixture.ts";

/** Runs in the index: two past the report's 500. */
const RUNS = 502;

Deno.test("report: the terminal line says 500 of 502 runs", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const t0 = Date.UTC(2026, 0, 5);
    await emitAndIndex(
      root,
      Array.from({ length: RUNS }, (_, i) => ({
        event_type: "run.created",
        run_id: `run-${String(i).padStart(4, "0")}`,
        run_type: "policy",
        config: {},
        data_fingerprint: "fp",
        timestamp_ms: t0 + i,
      })),
    );
    const out = join(dir, "all.html");
    const all = await runLedger(["report", "--root", root, "--out", out]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(
      all.stdout,
      new RegExp(
        `^Wrote .*: 500 of ${RUNS} runs \\(the newest; name runs or use --where for others\\), `,
      ),
    );
    assert.match(
      await Deno.readTextFile(out),
      new RegExp(`Showing the newest 500 of ${RUNS} runs`),
    );
    // Two runs named: two of two, said as before.
    const two = await runLedger(["report", "run-0001", "run-0002", "--root", root, "--out", out]);
    assert.equal(two.code, 0, two.stderr);
    assert.match(two.stdout, /^Wrote .*: 2 runs and their compare, /);
  });
});
