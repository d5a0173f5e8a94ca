import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { findRunEvents, findRunsCreated, withRunIdLock } from "../../ledger/run_lookup.ts";

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

// A review (G3): the run-id lock was the one lock a writer waited for without a limit. Held by
// another process (here a child that keeps it until killed, as a stopped emit would), it now
// refuses after waitMsMax, says once that it waits, and runs nothing; freed, it is taken.
Deno.test("run-id lock: a holder in another process makes the wait give up, nothing run", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-lock-" });
  const events = join(root, "events");
  await Deno.mkdir(events);
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const f = await Deno.open(${JSON.stringify(events)}, { read: true }); await f.lock(true);` +
      `console.log("held"); setInterval(() => {}, 60_000);`,
    ],
    stdout: "piped",
  }).spawn();
  let running = true;
  try {
    const reader = holder.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const { value } = await reader.read();
    equal(value?.trim(), "held");
    reader.releaseLock();
    const waits: number[] = [];
    let ran = false;
    const startMs = performance.now();
    // Raced against a timer: a wait without a limit fails here instead of hanging the suite.
    let timer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      withRunIdLock(root, () => {
        ran = true;
        return Promise.resolve();
      }, { waitMsMax: 400, noticeAfterMs: 100, onWait: (ms) => waits.push(ms) })
        .then(() => "took the lock", (err: Error) => err),
      new Promise((resolve) => timer = setTimeout(() => resolve("still waiting"), 5_000)),
    ]);
    clearTimeout(timer);
    ok(outcome instanceof Error, `gave up with an error, got ${String(outcome)}`);
    equal(outcome.name, "WriteError");
    match(outcome.message, /another process has held the log's run-id lock for 400 ms/);
    match(outcome.message, /nothing was written$/);
    const waitedMs = performance.now() - startMs;
    equal(ran, false);
    equal(waits.length, 1, "told once");
    ok(waits[0] >= 100 && waits[0] < 400, String(waits[0]));
    ok(waitedMs >= 400 && waitedMs < 5_000, `gave up after ${waitedMs} ms`);
    holder.kill("SIGKILL");
    await holder.status;
    running = false;
    equal(await withRunIdLock(root, () => Promise.resolve("ran"), { waitMsMax: 5_000 }), "ran");
  } finally {
    if (running) {
      holder.kill("SIGKILL");
      await holder.status;
    }
    await holder.stdout.cancel().catch((err) => {
      if (!(err instanceof TypeError)) throw err; // already closed or locked: nothing to drain
    });
    await Deno.remove(root, { recursive: true });
  }
});

// A review: quantBot's Python writes a run id that is not all ASCII as `json.dumps` does by
// default (`"caf\u00e9 1"`), and the lookup searched only for the id's own text, so an
// annotation of that run was refused ("only when the log holds its run.created").
Deno.test("run lookup: finds a run whose id Python wrote with \\u escapes", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-lookup-" });
  try {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    await Deno.writeTextFile(
      join(day, "part-000001.jsonl"),
      '{"event_type": "run.created", "event_id": "p1", "timestamp_ms": 1768867200000, ' +
        '"run_id": "caf\\u00e9 1", "run_type": "t", "config": {}, "data_fingerprint": "f"}\n' +
        '{"event_type": "run.started", "event_id": "p2", "timestamp_ms": 1768867200001, ' +
        '"run_id": "caf\u00e9 1"}\n',
    );
    deepEqual((await findRunEvents(root, "caf\u00e9 1")).map((f) => f.eventId), ["p2", "p1"]);
    const one = await findRunsCreated(root, new Set(["caf\u00e9 1"]));
    deepEqual([...one.keys()], ["caf\u00e9 1"]);
    // The batch path (more than four runs at once) finds it by the same texts.
    const many = await findRunsCreated(root, new Set(["caf\u00e9 1", "a", "b", "c", "d"]));
    deepEqual([...many.keys()], ["caf\u00e9 1"]);
    // Python escapes DEL as well; other writers put the hex in capitals (a second review).
    await Deno.writeTextFile(
      join(day, "part-000002.jsonl"),
      '{"event_type": "run.created", "event_id": "p3", "timestamp_ms": 1768867200000, ' +
        '"run_id": "del\\u007fx", "run_type": "t", "config": {}, "data_fingerprint": "f"}\n' +
        '{"event_type": "run.created", "event_id": "p4", "timestamp_ms": 1768867200000, ' +
        '"run_id": "caf\\u00E9 2", "run_type": "t", "config": {}, "data_fingerprint": "f"}\n',
    );
    const more = await findRunsCreated(root, new Set(["del\x7fx", "caf\u00e9 2"]));
    deepEqual([...more.keys()].sort(), ["caf\u00e9 2", "del\x7fx"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
