/**
 * Numeric flags share two grammars (an audit): every number is decimal
 * notation with an optional sign, fraction and exponent, blanks around it
 * ignored, and an integer flag takes one whose value is whole. `runs --limit
 * +5` was refused while `--stale-after-hours +5` was taken, `--fee-bps -0`
 * was refused, and `emit --timestamp-ms 1e12` was refused as "not an
 * integer" while `1000000000000.0` and the same number in `--event` JSON were
 * written. Values accepted before are written as before. The parsers
 * themselves are tested in `number_grammar_test.ts`.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { readLog } from "../../ledger/reader.ts";
import { runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

/** The field `field` of each event the log holds, in order. */
async function fieldsWritten(root: string, field: string): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const record of readLog(root)) {
    if (record.kind !== "event") continue;
    const value = (record.event as Record<string, unknown>)[field];
    if (value !== undefined) out.push(value);
  }
  return out;
}

/** `ledger emit` of a phase.started of run `a` with `--phase-order raw`. */
function phaseOrderArgs(root: string, raw: string): string[] {
  const event = ["--event-type", "phase.started", "--run-id", "a", "--phase-name", "p"];
  return ["emit", "--root", root, ...event, "--phase-order", raw];
}

Deno.test("emit's integer flags take what the same JSON number takes in --event", async (t) => {
  await withTempDir(async (root) => {
    await t.step("--timestamp-ms 1e12, 1000000000000.0 and JSON 1e12 write one value", async () => {
      for (const [id, ms] of [["a", "1e12"], ["b", "1000000000000.0"]]) {
        const r = await runLedger(runCreatedArgs(root, id, ["--timestamp-ms", ms]));
        equal(r.code, 0, r.stderr);
      }
      const event = '{"event_type":"run.created","run_id":"c","run_type":"x","config":{},' +
        '"data_fingerprint":"f","timestamp_ms":1e12}';
      const r = await runLedger(["emit", "--root", root, "--event", event]);
      equal(r.code, 0, r.stderr);
      deepEqual(await fieldsWritten(root, "timestamp_ms"), [1e12, 1e12, 1e12]);
    });

    await t.step("--phase-order: values taken before are written as before", async () => {
      for (const raw of ["1.0", "-0", "00012", "1e3", " 7 "]) {
        const r = await runLedger(phaseOrderArgs(root, raw));
        equal(r.code, 0, `${raw}: ${r.stderr}`);
      }
      deepEqual(await fieldsWritten(root, "phase_order"), [1, 0, 12, 1000, 7]);
    });

    await t.step(
      "a value that is not a whole number is refused, nothing written",
      async () => {
        for (const [raw, got] of [["1.5", "1.5"], ["1e-400", '"1e-400"']]) {
          const r = await runLedger(phaseOrderArgs(root, raw));
          equal(r.code, 1);
          equal(
            r.stderr,
            `ledger emit: phase.started: phase_order must be an integer >= 0, got ${got}\n`,
          );
        }
        equal((await fieldsWritten(root, "phase_order")).length, 5);
      },
    );
  });
});

Deno.test("runs --limit takes +5 and 5.0 as --stale-after-hours takes +5", async () => {
  await withTempDir(async (root) => {
    equal((await runLedger(runCreatedArgs(root, "lim-1"))).code, 0);
    equal(
      (await runLedger(["rebuild-index", "--root", root, "--stale-after-hours", "+5"])).code,
      0,
    );
    for (const limit of [" 5 ", "+5", "5.0", "1e1"]) {
      const r = await runLedger(["runs", "--root", root, "--limit", limit, "--format", "jsonl"]);
      equal(r.code, 0, `${limit}: ${r.stderr}`);
      equal(JSON.parse(r.stdout).run_id, "lim-1");
    }
    const bad = await runLedger(["runs", "--root", root, "--limit", "1.5"]);
    deepEqual([bad.code, bad.stderr], [
      2,
      'ledger runs: --limit must be an integer >= 1, got "1.5"\n',
    ]);
  });
});
