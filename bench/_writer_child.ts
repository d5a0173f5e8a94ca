/**
 * One writer process of benchmark item 3 (`bench/_emit.ts`): opens a durable
 * emitter, waits for the common start time, emits N events timing each, and
 * prints `{latenciesMs, startMs, endMs, failed}` as one JSON line.
 *
 * Usage: `deno run --allow-read=ROOT --allow-write=ROOT bench/_writer_child.ts ROOT N START_AT_MS NAME`
 *
 * @module
 */
import { EventEmitter } from "../ledger/emitter.ts";
import { BENCH_RUN_ID, benchFields } from "./_event.ts";

async function main(): Promise<void> {
  const [root, eventsText, startAtText, name] = Deno.args;
  const events = Number(eventsText);
  const emitter = new EventEmitter({ root, durability: "durable" });
  const runId = `${BENCH_RUN_ID}-${name}`;
  await emitter.runStarted(runId, { host: "bench", pid: Deno.pid }); // opens the writer and its part
  const waitMs = Number(startAtText) - Date.now();
  if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  const latenciesMs: number[] = [];
  const startMs = Date.now();
  for (let i = 0; i < events; i++) {
    const t0 = performance.now();
    await emitter.phaseCompleted(runId, benchFields(i)); // durable when it resolves
    latenciesMs.push(performance.now() - t0);
  }
  const endMs = Date.now();
  await emitter.close();
  console.log(JSON.stringify({ latenciesMs, startMs, endMs, failed: emitter.stats().failed }));
}

if (import.meta.main) await main();
