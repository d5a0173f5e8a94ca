/**
 * A child of benchmark item 5 (private): where a `ledger emit` cold start
 * goes. Imports, one after the other, what `deno task emit` loads, then what
 * it no longer loads for a valid event (the zod registry, imported only to
 * word an invalid event's error), timing each step; prints one JSON object
 * of milliseconds.
 *
 * @module
 */
const t0 = performance.now();
const write = await import("../ledger/event_write.ts"); // the zod-free fast path
const t1 = performance.now();
await import("../cli/emit.ts");
const t2 = performance.now();
write.encodeEventLine(write.completeEventFast({ event_type: "run.started", run_id: "r1" })!);
const t3 = performance.now();
await import("zod");
const t4 = performance.now();
await import("../ledger/events.ts"); // the registry: zod schemas built at import
const t5 = performance.now();
console.log(JSON.stringify({
  fastPathImportMs: t1 - t0,
  emitRestImportMs: t2 - t1,
  firstEventMs: t3 - t2,
  notLoadedZodImportMs: t4 - t3,
  notLoadedRegistryImportMs: t5 - t4,
}));
