/**
 * What a backtest's own code can get wrong with the in-process writer and
 * emitter, each refused or made safe (a probe of the library API):
 *
 * - an append made while a relaxed writer's `close()` runs was acknowledged,
 *   then written after `close()` returned into a part no one closed (lost to
 *   a `Deno.exit()` right after it): refused now, with a `WriteError`;
 * - the first emits of an emitter (its writer still opening) kept the
 *   caller's objects and wrote them as they were once it opened: a reused
 *   metrics object recorded three trials as the last one;
 * - a second `run.created` of one run id from one emitter was written, and
 *   the index merged the two runs into one;
 * - a `Map`, `Set`, typed array or `Error` was written as `{}` (or numbered
 *   keys), a function left out, all acknowledged.
 */
import assert from "node:assert/strict";
import { openWriter } from "../../ledger/writer.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import { RunIdReusedError, ValidationError, WriteError } from "../../ledger/errors.ts";
import { completeEvent } from "../../ledger/events.ts";
import { readCheckedLog, withTempDir } from "../_helpers.ts";
import { readLog } from "../../ledger/reader.ts";

Deno.test("relaxed writer: an append while close() runs is refused, and close() answers once done", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root, { durability: "relaxed" });
    for (let i = 0; i < 500; i++) {
      writer.appendNow({ event_type: "run.noted", run_id: "r1", note: `pre${i}` });
    }
    const closing = writer.close();
    const again = writer.close(); // the same close, not an early answer
    await assert.rejects(
      writer.append({ event_type: "run.noted", run_id: "r1", note: "during" }),
      (err) => err instanceof WriteError && /the writer is closed/.test(err.message),
    );
    await Promise.all([closing, again]);
    const log = await readCheckedLog(root);
    assert.equal(log.events, 500);
    assert.equal(log.files, 1, "no part made after close");
  });
});

Deno.test("emitter: the first emits are what the caller passed at the call", async () => {
  for (const durability of ["durable", "relaxed"] as const) {
    await withTempDir(async (root) => {
      const emitter = new EventEmitter({ root, durability });
      const metrics = { pnl: 0 };
      const emits: Promise<string | null>[] = [];
      for (let i = 0; i < 3; i++) {
        metrics.pnl = i;
        emits.push(emitter.trialRecorded("r1", { trial_id: `t${i}`, params: {}, metrics }));
      }
      metrics.pnl = 999; // before the writer has opened
      assert.ok((await Promise.all(emits)).every((id) => id !== null));
      await emitter.close();
      const recorded: string[] = [];
      for await (const record of readLog(root)) {
        if (record.kind === "event") {
          const e = record.event as unknown as { trial_id: string; metrics: { pnl: number } };
          recorded.push(`${e.trial_id}=${e.metrics.pnl}`);
        }
      }
      assert.deepEqual(recorded.sort(), ["t0=0", "t1=1", "t2=2"], durability);
    });
  }
});

Deno.test("emitter: a second run.created of one run id is refused and counted", async () => {
  await withTempDir(async (root) => {
    const logged: string[] = [];
    const emitter = new EventEmitter({ root, log: (m) => logged.push(m) });
    const fields = { run_type: "sweep", config: { stop: 0.1 }, data_fingerprint: "fp" };
    assert.notEqual(await emitter.runCreated("my-sweep", fields), null);
    assert.equal(await emitter.runCreated("my-sweep", { ...fields, config: { stop: 0.2 } }), null);
    assert.equal(emitter.stats().failed, 1);
    assert.match(logged.join("\n"), /RunIdReusedError: run "my-sweep" already has a run\.created/);
    // A run.created that failed leaves its id free: the next one is written.
    assert.equal(await emitter.runCreated("other", { ...fields, run_type: "" }), null);
    assert.notEqual(await emitter.runCreated("other", fields), null);
    await emitter.close();
    const log = await readCheckedLog(root);
    assert.equal(log.events, 2);
    assert.ok(new RunIdReusedError("x") instanceof Error);
  });
});

Deno.test("events: values JSON.stringify would change are refused, naming the field", () => {
  const created = (x: unknown) => (completeEvent({
    event_type: "run.created",
    run_id: "r1",
    run_type: "x",
    data_fingerprint: "f",
    config: { x },
  }) as unknown as { config: unknown });
  for (
    const [value, got] of [
      [new Map([["a", 1]]), "a Map"],
      [new Set([1]), "a Set"],
      [new Uint8Array([1, 2]), "a Uint8Array"],
      [new Error("boom"), "an Error"],
      [() => 1, "a function"],
      [Symbol("s"), "a symbol"],
    ] as const
  ) {
    assert.throws(
      () => created(value),
      (err) =>
        err instanceof ValidationError && err.field === "config.x" &&
        err.message.endsWith(`got ${got}`),
      got,
    );
  }
  // What JSON writes as it is, or as the docs say: kept.
  assert.deepEqual(created(new Date(0)).config, { x: "1970-01-01T00:00:00.000Z" });
  class Params {
    stop = 0.1;
  }
  assert.equal(JSON.stringify(created(new Params()).config), '{"x":{"stop":0.1}}');
  assert.equal(JSON.stringify(created(undefined).config), "{}"); // left out, as JS writes it
});
