import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { findRunEvents } from "../../ledger/run_lookup.ts";

// A run.created written by the Python tools with NaN in its config is a run
// like any other (SPEC 3): the run-id check and emit's unknown-run warning
// must see it. Plain JSON.parse threw on it, so the lookup found nothing.
Deno.test("run lookup: finds a run whose run.created holds Python's NaN", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-lookup-" });
  try {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    await Deno.writeTextFile(
      join(day, "part-000001.jsonl"),
      '{"event_type": "run.created", "event_id": "e1", "timestamp_ms": 1768867200000, ' +
        '"run_id": "py1", "run_type": "policy", "config": {"stopPct": NaN}, ' +
        '"data_fingerprint": "fp"}\n' +
        '{"event_type": "run.started", "event_id": "e2", "timestamp_ms": 1768867200001, ' +
        '"run_id": "py1"}\n',
    );
    const created = await findRunEvents(root, "py1", { eventType: "run.created" });
    deepEqual(created.map((f) => f.eventId), ["e1"]);
    equal((await findRunEvents(root, "py1")).length, 2);
    equal((await findRunEvents(root, "py2")).length, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
