import assert from "node:assert/strict";
import { listParts, readPartFile } from "../../ledger/reader.ts";
import { denoRunArgs, REPO_ROOT, withTempDir } from "./_helpers.ts";

const CHILD = new URL("./_writer_child.ts", import.meta.url).pathname;
/** Acknowledged events to wait for before the kill. */
const ACKS_BEFORE_KILL = 300;
/** Large events make a kill during a write more likely. */
const BLOB_BYTES = 20_000;

Deno.test("crash: SIGKILL mid-stream keeps every acknowledged event, at most a torn tail", async () => {
  await withTempDir(async (root) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: denoRunArgs(CHILD, [root, "crash", "0", String(BLOB_BYTES)]),
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "null",
      stdin: "null",
    }).spawn();
    const acked: string[] = [];
    let rest = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      while (acked.length < ACKS_BEFORE_KILL) {
        const { value, done } = await reader.read();
        if (done) break;
        const lines = (rest + value).split("\n");
        rest = lines.pop()!;
        acked.push(...lines);
      }
      child.kill("SIGKILL");
      // Ids printed after the kill decision were acknowledged too: keep them.
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        const lines = (rest + value).split("\n");
        rest = lines.pop()!;
        acked.push(...lines);
      }
    } finally {
      reader.releaseLock();
    }
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL", "the child was killed, not finished");
    assert.ok(acked.length >= ACKS_BEFORE_KILL);

    const present = new Set<string>();
    for (const part of await listParts(root)) {
      const kinds: string[] = [];
      for await (const record of readPartFile(part.path, { file: part.file })) {
        kinds.push(record.kind);
        if (record.kind === "event") present.add(record.event.event_id);
      }
      assert.ok(!kinds.includes("invalid"), `${part.file}: no invalid lines`);
      const torn = kinds.filter((k) => k === "torn").length;
      assert.ok(torn <= 1, `${part.file}: at most one torn tail`);
      if (torn === 1) assert.equal(kinds[kinds.length - 1], "torn", "the torn line is the last");
    }
    const missing = acked.filter((id) => !present.has(id));
    assert.deepEqual(missing, [], "every acknowledged event is in the log");
  });
});
