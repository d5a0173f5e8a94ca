/**
 * A child for the emitter's relaxed-loss test (private): run under
 * `ulimit -f`, with no SIGXFSZ handler of its own (the writer installs one).
 * Buffers events whose group commit passes the file size limit, lets the
 * commit fail, emits one more, closes, and prints a JSON report.
 *
 * @module
 */
import { EventEmitter } from "../../ledger/emitter.ts";

const [root] = Deno.args;
const logged: string[] = [];
const GROUP_COMMIT_MS = 1_000;
// One group of the 15: a commit timer of 1 s, which the 15 appends stay within (at the default
// 10 ms, a slow machine's appends pass it and an earlier, smaller group commits first; at 200 ms,
// so did one run of 6 on a machine loaded by three busy loops).
const emitter = new EventEmitter({
  root,
  durability: "relaxed",
  writer: { groupCommitMs: GROUP_COMMIT_MS },
  log: (m) => logged.push(m),
});
const acked: (string | null)[] = [];
const start = Date.now();
for (let i = 0; i < 15; i++) {
  acked.push(await emitter.runNoted("big", { note: "x".repeat(200_000) }));
}
const appendsMs = Date.now() - start; // past GROUP_COMMIT_MS, a smaller group committed first
// The group commit runs at 1 s and fails; its failure is answered to the next emit, so no count
// shows it before: wait for the timer with a margin of 2 s for a loaded machine.
await new Promise((resolve) => setTimeout(resolve, GROUP_COMMIT_MS + 2_000 - (Date.now() - start)));
const after = await emitter.runNoted("big", { note: "after" });
await emitter.close();
console.log(JSON.stringify({ acked, after, stats: emitter.stats(), logged, appendsMs }));
