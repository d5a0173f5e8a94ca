/**
 * A retried `emit` that writes nothing prints the id of a line another
 * writer put in the log: that line must be durable before the id is
 * printed (a review: a writer killed between its write and its fdatasync,
 * a relaxed in-process writer or the Python tools leave such a line, and
 * the retry acknowledged it unsynced). Simulated power loss with the
 * fault-injecting file layer: the line survives it.
 */
import { strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { main as emitMain } from "../../cli/emit.ts";
import { SeededRandom, withTempDir } from "../_helpers.ts";
import { FaultFs } from "./_fault_fs.ts";

const STARTED = JSON.stringify({
  event_type: "run.started",
  event_id: "unsynced-1",
  run_id: "r1",
  timestamp_ms: Date.UTC(2026, 0, 20),
  schema_version: 1,
});

Deno.test("power loss: a retry makes the line it answers with durable first", async () => {
  await withTempDir(async (root) => {
    await Deno.mkdir(join(root, "events"));
    const dir = join(root, "events", "day=2026-01-20");
    const part = join(dir, "part-000001.jsonl"); // as the Python tools name theirs
    const layer = await FaultFs.attach(root); // everything so far is durable
    // The day folder and the part made and written behind the layer's back, never synced (their
    // entries neither: reviews): a writer that died before its sync.
    await Deno.mkdir(dir);
    await Deno.writeTextFile(part, `${STARTED}\n`);
    // emit writes its ids to standard output itself (not console.log, which drops a broken pipe).
    const { writeSync } = Deno.stdout;
    const printed: string[] = [];
    Deno.stdout.writeSync = (p: Uint8Array) => {
      printed.push(new TextDecoder().decode(p));
      return p.length;
    };
    let code: number;
    try {
      code = await emitMain(["--root", root, "--event", STARTED]);
    } finally {
      Deno.stdout.writeSync = writeSync;
      layer.detach();
    }
    equal(code, 0);
    equal(printed.join(""), "unsynced-1\n");
    await layer.restore("drop", new SeededRandom(1)); // only what was synced survives
    equal(await Deno.readTextFile(part), `${STARTED}\n`, "the acknowledged line survived");
  });
});
