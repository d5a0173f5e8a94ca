/**
 * A backtest or sweep whose events cannot be written (an audit: a read-only
 * log folder, a full disk, a FIFO where the schema export goes) still runs
 * to its end, since the emitter never throws into a run (SPEC 6); it said
 * "completed" and exited 0 while the ledger held no record of it. It exits
 * 1 now, one line on stderr, the run as failed with `--json`. The log is
 * made unwritable the way a root user cannot bypass: a FIFO at
 * `events/_schema.json`, which every writer refuses to open.
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { writeFixtures } from "../backtest/_fixtures.ts";

for (const command of ["backtest", "sweep"] as const) {
  Deno.test(`ledger ${command}: a run none of whose events reach the log exits 1`, async () => {
    await withTempDir(async (dir) => {
      const { calls, candles } = await writeFixtures(dir);
      const root = join(dir, "root");
      await Deno.mkdir(join(root, "events"), { recursive: true });
      const fifo = await new Deno.Command("mkfifo", {
        args: [join(root, "events", "_schema.json")],
      })
        .output();
      equal(fifo.code, 0, new TextDecoder().decode(fifo.stderr));
      const args = command === "backtest"
        ? ["backtest", "path-only"]
        : ["sweep", "policy", "--grid", '{"type":"fixed_stop","stopPct":[0.2,0.3]}'];
      const r = await runLedger([
        ...args,
        "--root",
        root,
        "--calls",
        calls,
        "--candles",
        candles,
        "--no-index",
        "--json",
        "--run-id",
        "unrecorded-1",
      ]);
      equal(r.code, 1, r.stderr);
      match(
        r.stderr,
        new RegExp(
          `^ledger ${command}: \\d+ of the run's events could not be written to the log \\(.*\\): ` +
            "the ledger has no complete record of it \\(run unrecorded-1, outputs in .*\\)$",
          "m",
        ),
      );
      const out = JSON.parse(r.stdout);
      equal(out.status, "failed");
      equal(out.run_id, "unrecorded-1");
    });
  });
}
