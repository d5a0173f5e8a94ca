import assert from "node:assert/strict";
import { listParts, readPartFile } from "../../ledger/reader.ts";
import { denoRunArgs, runDeno, withTempDir } from "./_helpers.ts";

const PROCESSES = 8;
const EVENTS_PER_PROCESS = 150;
const CHILD = new URL("./_writer_child.ts", import.meta.url).pathname;

Deno.test("concurrency: 8 real processes append at once, nothing lost or mixed", async () => {
  await withTempDir(async (root) => {
    const results = await Promise.all(
      Array.from(
        { length: PROCESSES },
        (_, p) =>
          runDeno(denoRunArgs(CHILD, [root, `proc-${p}`, String(EVENTS_PER_PROCESS), "300"])),
      ),
    );
    const acked = new Map<string, string>(); // event id -> tag
    results.forEach((result, p) => {
      assert.equal(result.code, 0, result.stderr);
      for (const id of result.stdout.trim().split("\n")) acked.set(id, `proc-${p}`);
    });
    assert.ok(acked.size >= PROCESSES * EVENTS_PER_PROCESS);
    const seen = new Map<string, string>();
    const parts = await listParts(root);
    for (const part of parts) {
      const tags = new Set<string>();
      for await (const record of readPartFile(part.path, { file: part.file })) {
        assert.equal(record.kind, "event", `${part.file}:${record.line} is ${record.kind}`);
        if (record.kind !== "event") continue;
        tags.add(record.event.run_id);
        assert.ok(!seen.has(record.event.event_id), "no duplicates");
        seen.set(record.event.event_id, record.event.run_id);
      }
      assert.equal(tags.size, 1, `${part.file} holds lines of ${[...tags].join(", ")}`);
    }
    assert.deepEqual(new Map([...seen].sort()), new Map([...acked].sort()));
    assert.ok(parts.length >= PROCESSES);
  });
});
