/**
 * Relaxed mode commits at least every `groupCommitMs` of appends, also in a
 * loop that keeps the event loop busy: CPU work between emits that await
 * only the emits, whose promises are settled. A probe: the 10 ms timer never
 * ran there, the log stayed empty for seconds (3,000 acknowledged events, 0
 * bytes) and a kill lost thousands of acknowledged events. The first append
 * past the window now commits and waits for it.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EventEmitter } from "../../ledger/emitter.ts";
import { listParts } from "../../ledger/parts.ts";
import { denoScriptArgs, readCheckedLog, withTempDir } from "../_helpers.ts";

/** Events emitted 1 ms apart that may be acknowledged and not on disk: the 10 ms window, slack. */
const UNSYNCED_EVENTS_MAX = 40;

function busyMs(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // CPU work: no turn of the event loop
  }
}

/** The paths of the log's part files. */
async function partPaths(root: string): Promise<string[]> {
  return (await listParts(root)).map((p) => p.path);
}

Deno.test("relaxed: a busy loop's events reach the disk within the window", async () => {
  await withTempDir(async (root) => {
    const emitter = new EventEmitter({ root, durability: "relaxed" });
    try {
      assert.notEqual(
        await emitter.runCreated("busy", { run_type: "x", config: {}, data_fingerprint: "f" }),
        null,
      );
      const trials = 200;
      for (let i = 0; i < trials; i++) {
        busyMs(1);
        assert.notEqual(
          await emitter.trialRecorded("busy", { trial_id: `t${i}`, params: {}, metrics: {} }),
          null,
        );
      }
      // Read without awaiting anything the emitter could use to catch up.
      let lines = 0;
      for (const path of await partPaths(root)) {
        lines += Deno.readTextFileSync(path).split("\n").filter((l) => l !== "").length;
      }
      assert.ok(
        lines >= 1 + trials - UNSYNCED_EVENTS_MAX,
        `${lines} of ${1 + trials} acknowledged events on disk`,
      );
    } finally {
      await emitter.close();
    }
  });
});

Deno.test("relaxed: SIGKILL of a busy loop loses at most the window's events", async () => {
  await withTempDir(async (root) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(new URL("./_relaxed_busy_child.ts", import.meta.url).pathname, [
        root,
        "busy",
      ]),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const acked: string[] = [];
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let pending = "";
    while (acked.length < 500) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      acked.push(...lines);
    }
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const stderr = await new Response(child.stderr).text();
    assert.ok(acked.length >= 500, `the child stopped early: ${stderr}`);
    const log = await readCheckedLog(root);
    const lost = acked.filter((id) => !log.ids.has(id));
    assert.ok(
      lost.length <= UNSYNCED_EVENTS_MAX,
      `${lost.length} of ${acked.length} acknowledged events lost to SIGKILL (${join(root)})`,
    );
  });
});
