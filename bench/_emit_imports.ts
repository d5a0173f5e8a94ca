/**
 * A child of benchmark item 5 (private): where a `ledger emit` cold start
 * goes. Imports, one after the other, what `ledger emit` loads and times
 * each step; prints one JSON object of milliseconds.
 *
 * @module
 */
const t0 = performance.now();
await import("zod");
const t1 = performance.now();
const events = await import("../ledger/events.ts"); // the registry: zod schemas built at import
const t3 = performance.now();
await import("../cli/emit.ts");
const t4 = performance.now();
events.encodeEventLine(events.completeEvent({ event_type: "run.started", run_id: "r1" }));
const t5 = performance.now();
console.log(JSON.stringify({
  zodImportMs: t1 - t0,
  eventsImportMs: t3 - t1, // flags are parsed without node:util (cli/_parse_args.ts)
  emitRestImportMs: t4 - t3,
  firstValidationMs: t5 - t4,
}));
