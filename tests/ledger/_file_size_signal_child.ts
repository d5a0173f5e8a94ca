/**
 * A child for the write-failure test (private): with no SIGXFSZ handler of
 * its own, opens an emitter (the writer installs one), emits one event,
 * sends itself SIGXFSZ (whose default action ends the process) and prints
 * that it is alive.
 *
 * @module
 */
import { EventEmitter } from "../../ledger/emitter.ts";

const [root] = Deno.args;
const emitter = new EventEmitter({ root, durability: "relaxed" });
const id = await emitter.runStarted("signal");
if (id === null) throw new Error(`The event was not written: ${emitter.stats().lastError}`);
Deno.kill(Deno.pid, "SIGXFSZ");
// A signal a process sends itself is delivered before kill() returns to it: a process without
// a handler is gone by now. The wait leaves Deno's handler time to run.
await new Promise((resolve) => setTimeout(resolve, 50));
await emitter.close();
console.log("alive after SIGXFSZ");
