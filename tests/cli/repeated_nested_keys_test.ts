/**
 * A key repeated inside an object field (`"config": {"stop": 0.1, "stop":
 * 0.2}`, written by hand or by a writer of another language) has one value
 * in ledger: the first, as DuckDB reads it (helper-296: `show` and `compare`
 * parsed the index's text with `JSON.parse`, which keeps the last, while
 * `--where`, `--columns` and `export` matched the first). `emit` writes the
 * value the same line is read as.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { logText, runLedger, withTempDir } from "../_helpers.ts";

/** A hand-written `run.created` line whose `config` repeats `stop` (first `first`, then 0.9). */
function createdLine(runId: string, first: number): string {
  return `{"event_id":"e-${runId}","event_type":"run.created","schema_version":1,` +
    `"run_id":"${runId}","timestamp_ms":1768867200000,"run_type":"x",` +
    `"config":{"stop":${first},"inner":{"k":"a","k":"b"},"stop":0.9},"data_fingerprint":"f"}`;
}

async function ledger(args: string[]): Promise<string> {
  const r = await runLedger(args);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
}

Deno.test("a key repeated inside an object reads as its first value in every command", async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    await Deno.writeTextFile(
      join(day, "part-000001.jsonl"),
      `${createdLine("r1", 0.1)}\n${createdLine("r2", 0.2)}\n`,
    );
    await ledger(["rebuild-index", "--root", root]);
    const shown = JSON.parse(await ledger(["show", "r1", "--root", root, "--json"]));
    assert.deepEqual(shown.run.config, { stop: 0.1, inner: { k: "a" } });
    const compared = JSON.parse(await ledger(["compare", "r1", "r2", "--root", root, "--json"]));
    assert.deepEqual(compared.config.stop, { r1: 0.1, r2: 0.2 });
    // The same value the index's own reader matches and prints.
    const matched = await ledger([
      ...["runs", "--root", root, "--where", "config.stop = 0.1", "--format", "csv"],
      ...["--columns", "config.stop"],
    ]);
    assert.deepEqual(matched.trim().split("\n").slice(1).map((l) => l.split(",")[0]), ["r1"]);
    assert.match(matched, /,0\.1\n/);
    const listed = await ledger([
      ...["runs", "--root", root, "--format", "csv", "--columns", "config", "--sort", "run_id"],
    ]);
    assert.match(listed, /^r1,.*,"\{""stop"":0\.1,""inner"":\{""k"":""a""\}\}"$/m);
    // emit writes what the line would be read as.
    await ledger([
      "emit",
      "--root",
      root,
      "--event",
      createdLine("r3", 0.3).replace(/"event_id":"e-r3",/, ""),
    ]);
    const written = (await logText(root)).split("\n").find((l) => l.includes('"r3"'));
    assert.ok(written !== undefined);
    assert.deepEqual(JSON.parse(written).config, { stop: 0.3, inner: { k: "a" } });
  });
});
