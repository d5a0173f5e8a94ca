import assert from "node:assert/strict";
import { join } from "node:path";
import { type LogRecord, readLog, readPartFile } from "../../ledger/reader.ts";
import { dayDir } from "../../ledger/paths.ts";
import { PYTHON_LINES, withTempDir } from "./_helpers.ts";

async function collect(gen: AsyncGenerator<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const record of gen) out.push(record);
  return out;
}

Deno.test("reader: reports bad lines with file, line and reason, never throws", async () => {
  await withTempDir(async (root) => {
    const dir = dayDir(root, "2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    const bytes = new TextEncoder().encode(
      [
        PYTHON_LINES[0],
        "",
        "{not json",
        "\0\0\0\0",
        '{"event_type":"run.started"}',
        '{"event_type":"phase.started","event_id":"e","timestamp_ms":1,"run_id":"r","phase_name":"p","phase_order":"x"}',
        PYTHON_LINES[1],
        '{"event_type":"run.sta',
      ].join("\n"),
    );
    await Deno.writeFile(join(dir, "part-000001.jsonl"), bytes);
    await Deno.writeFile(join(dir, "part-000002.jsonl"), new Uint8Array([0xff, 0xfe, 0x0a]));
    await Deno.writeFile(join(dir, "notes.txt"), new Uint8Array([1])); // not a part file
    const records = await collect(readLog(root));
    const summary = records.map((r) => [r.file.split("/")[1], r.line, r.kind]);
    assert.deepEqual(summary, [
      ["part-000001.jsonl", 1, "event"],
      ["part-000001.jsonl", 2, "invalid"],
      ["part-000001.jsonl", 3, "invalid"],
      ["part-000001.jsonl", 4, "invalid"],
      ["part-000001.jsonl", 5, "invalid"],
      ["part-000001.jsonl", 6, "invalid"],
      ["part-000001.jsonl", 7, "event"],
      ["part-000001.jsonl", 8, "torn"],
      ["part-000002.jsonl", 1, "invalid"],
    ]);
    const reasons = records.map((r) => r.kind === "event" ? "" : r.reason);
    assert.equal(reasons[1], "empty line");
    assert.match(reasons[2], /^not JSON/);
    assert.match(reasons[3], /NUL bytes/);
    assert.equal(reasons[4], "run.started: event_id is required");
    assert.equal(reasons[5], 'phase.started: phase_order must be an integer >= 0, got "x"');
    assert.match(reasons[7], /^torn last line: 22 bytes/);
    assert.match(reasons[8], /^not UTF-8/);
  });
});

Deno.test("reader: offsets resume reading mid-file", async () => {
  await withTempDir(async (root) => {
    const path = join(root, "part-1.jsonl");
    await Deno.writeTextFile(path, PYTHON_LINES.join("\n") + "\n");
    const all = await collect(readPartFile(path));
    assert.equal(all.length, 3);
    const rest = await collect(readPartFile(path, { startOffset: all[1].offset, startLine: 2 }));
    assert.deepEqual(rest, all.slice(1));
  });
});

Deno.test("reader: a missing log is empty", async () => {
  await withTempDir(async (root) => {
    assert.deepEqual(await collect(readLog(join(root, "nope"))), []);
  });
});
