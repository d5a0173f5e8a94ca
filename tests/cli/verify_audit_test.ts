/**
 * A black-box audit of `ledger verify` (real processes and files): what it
 * got wrong, each case beside the index's verdict on the same log.
 *
 * - A line of only whitespace (spaces, a lone `\r` of a CRLF blank line) was
 *   reported as `not JSON: Unexpected end of JSON input`, which reads as a
 *   line cut off by a crash; `ingest_errors` calls it a `blank line`, and so
 *   does verify now.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

const DAY = "day=2026-01-20";
const T0 = Date.UTC(2026, 0, 20);

Deno.test("ledger verify audit: a line of only whitespace is a blank line, as in ingest_errors", async () => {
  await withTempDir(async (root) => {
    const created = JSON.stringify({
      event_type: "run.created",
      event_id: "c1",
      timestamp_ms: T0,
      run_id: "r1",
      run_type: "x",
      config: {},
      data_fingerprint: "f",
    });
    const dir = join(root, "events", DAY);
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-000001.jsonl"), `${created}\n   \n\r\n\t \n`);

    const verified = await runLedger(["verify", "--root", root, "--json"]);
    assert.equal(verified.code, 1, verified.stderr);
    const report = JSON.parse(verified.stdout);
    const found = report.days[0].invalid.map((f: { line: number; reason: string }) =>
      `${f.line}: ${f.reason}`
    );
    assert.deepEqual(found, ["2: blank line", "3: blank line", "4: blank line"]);
    assert.equal(report.totals.events, 1);

    // The index refuses the same lines (its own idea of blank leaves out the tab).
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);
    const errors = await runLedger([
      "sql",
      "--root",
      root,
      "SELECT line, reason FROM ingest_errors ORDER BY line",
      "--format",
      "jsonl",
    ]);
    assert.equal(errors.code, 0, errors.stderr);
    const indexed = errors.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(indexed.map((r: { line: number }) => r.line), [2, 3, 4]);
    assert.deepEqual(indexed.slice(0, 2).map((r: { reason: string }) => r.reason), [
      "blank line",
      "blank line",
    ]);
  });
});
