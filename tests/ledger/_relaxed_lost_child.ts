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
// One group of the 15: a commit timer of 200 ms, which the 15 appends stay well within (at the
// default 10 ms, a slow machine's appends pass it and an earlier, smaller group commits first).
const emitter = new EventEmitter({
  root,
  durability: "relaxed",
  writer: { groupCommitMs: 200 },
  log: (m) => logged.push(m),
});
const acked: (string | null)[] = [];
for (let i = 0; i < 15; i++) {
  acked.push(await emitter.runNoted("big", { note: "x".repeat(200_000) }));
}
await new Promise((resolve) => setTimeout(resolve, 300)); // the group commit runs, and fails
const after = await emitter.runNoted("big", { note: "after" });
await emitter.close();
console.log(JSON.stringify({ acked, after, stats: emitter.stats(), logged }));
