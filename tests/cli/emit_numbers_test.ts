/**
 * `ledger emit` writes the numbers inside an event as they were given where
 * `JSON.stringify` would write them otherwise: Python's `1.0` and `-0.0`
 * stay floats to every reader, `1.2345678901234567e+19` stays that double
 * (written as the integer `12345678901234567000` it read back in Python as
 * another number; a probe of quantBot's output piped into `emit --stdin`).
 * The event's own typed fields are validated and written as numbers.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("emit keeps the numbers inside an event as written", async () => {
  await withTempDir(async (root) => {
    const config =
      '{"f": 1.0, "z": -0.0, "big": 1.2345678901234567e+19, "e": 1e16, "arr": [1.0, 2, 0.5], ' +
      '"seed": 9007199254740993, "nan": NaN, "k": 3.10}';
    const created = `{"event_id": "c1", "event_type": "run.created", "run_id": "py-1", ` +
      `"run_type": "policy", "data_fingerprint": "fp", "config": ${config}}`;
    const phase = '{"event_id": "p1", "event_type": "phase.completed", "run_id": "py-1", ' +
      '"phase_name": "load", "duration_ms": 5.0, "output_summary": {"rows": 2.50}}';
    const emitted = await runLedger(["emit", "--root", root, "--stdin"], {
      stdin: `${created}\n${phase}\n`,
    });
    assert.equal(emitted.code, 0, emitted.stderr);
    const [day] = (await Array.fromAsync(Deno.readDir(join(root, "events"))))
      .filter((e) => e.name.startsWith("day=")).map((e) => e.name);
    const [part] = (await Array.fromAsync(Deno.readDir(join(root, "events", day))))
      .filter((e) => e.name.endsWith(".jsonl")).map((e) => e.name);
    const lines = (await Deno.readTextFile(join(root, "events", day, part))).trimEnd().split("\n");
    assert.match(
      lines[0],
      /"config":\{"f":1\.0,"z":-0\.0,"big":1\.2345678901234567e\+19,"e":1e16,"arr":\[1\.0,2,0\.5\],"seed":9007199254740993,"nan":null,"k":3\.10\}/,
    );
    // The typed field is the integer it holds; what it summarizes keeps its text.
    assert.match(lines[1], /"duration_ms":5,"output_summary":\{"rows":2\.50\}/);
    // The same event again, its float written as an integer: a retry, not another event.
    const retried = await runLedger(["emit", "--root", root, "--stdin"], {
      stdin: created.replace('"f": 1.0', '"f": 1') + "\n",
    });
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stderr, /already in the log .*a retry/);
    // The index reads them as floats.
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const runs = await runLedger(
      ["runs", "--root", root, "--format", "jsonl", "--columns", "config.f,config.z,config.big"],
    );
    assert.equal(runs.code, 0, runs.stderr);
    assert.match(
      runs.stdout,
      /"config\.f":1\.0,"config\.z":-0\.0,"config\.big":12345678901234567000\.0/,
    );
  });
});
