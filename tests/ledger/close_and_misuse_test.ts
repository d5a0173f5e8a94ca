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
 *   the index merged the two runs into one: refused, across the emitters of
 *   a root in the process;
 * - a `Map`, `Set`, typed array or `Error` was written as `{}` (or numbered
 *   keys): written as what it holds now.
 *
 * A review of those fixes added: after a lost group (a failed commit), a
 * retry read the caller's objects late and could run after `close()`, and
 * a lost `run.created` kept its id taken.
 */
import assert from "node:assert/strict";
import { openWriter } from "../../ledger/writer.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import { RunIdReusedError, ValidationError, WriteError } from "../../ledger/errors.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { completeEvent } from "../../ledger/events.ts";
import { readCheckedLog, withTempDir } from "../_helpers.ts";
import { boundFile } from "./_helpers.ts";
import { readLog } from "../../ledger/reader.ts";
import { type DurableFsOps, REAL_FS, useDurableFs } from "../../ledger/durable_fs.ts";

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

Deno.test("emitter: a second run.created of one run id is written, warned of and named by the index", async () => {
  // A review: refusing the second run.created alone left the rest of that run written under the
  // id (still merged), and the index, seeing one run.created, said nothing.
  await withTempDir(async (root) => {
    const logged: string[] = [];
    const emitter = new EventEmitter({ root, log: (m) => logged.push(m) });
    const fields = { run_type: "sweep", config: { stop: 0.1 }, data_fingerprint: "fp" };
    assert.notEqual(await emitter.runCreated("my-sweep", fields), null);
    assert.notEqual(
      await emitter.runCreated("my-sweep", { ...fields, config: { stop: 0.2 } }),
      null,
    );
    assert.notEqual(await emitter.runCreated("my-sweep", fields), null);
    assert.equal(emitter.stats().failed, 0);
    assert.equal(logged.length, 1, logged.join("\n")); // once
    assert.match(
      logged[0],
      /^ledger emitter: warning: run "my-sweep" already has a run\.created from this process/,
    );
    // A run.created that failed leaves its id free: the next one is written, unwarned.
    assert.equal(await emitter.runCreated("other", { ...fields, run_type: "" }), null);
    assert.notEqual(await emitter.runCreated("other", fields), null);
    assert.equal(logged.filter((m) => m.includes("warning")).length, 1);
    await emitter.close();
    const log = await readCheckedLog(root);
    assert.equal(log.events, 4);
    const report = await rebuildIndex(root);
    assert.deepEqual(report.reusedRuns, { shown: ["my-sweep"], count: 1 });
    assert.ok(new RunIdReusedError("x") instanceof Error);
  });
});

Deno.test("events: values JSON.stringify would write as something else are written as they hold", () => {
  const written = (x: unknown) =>
    JSON.stringify(
      (completeEvent({
        event_type: "run.created",
        run_id: "r1",
        run_type: "x",
        data_fingerprint: "f",
        config: { x },
      }) as unknown as { config: unknown }).config,
    );
  assert.equal(
    written(new Map<string, unknown>([["a", 1], ["b", new Set([2, 3])]])),
    '{"x":{"a":1,"b":[2,3]}}',
  );
  assert.equal(written(new Set(["p", "q"])), '{"x":["p","q"]}');
  assert.equal(written(new Uint8Array([1, 2])), '{"x":[1,2]}');
  assert.equal(written(new Float64Array([0.5])), '{"x":[0.5]}');
  assert.equal(written(new Error("boom")), '{"x":{"message":"boom"}}');
  // Its class when not a plain Error, and its cause, itself converted (a review: both dropped).
  assert.equal(
    written(new RangeError("out", { cause: new TypeError("inner", { cause: { code: 3 } }) })),
    '{"x":{"name":"RangeError","message":"out","cause":' +
      '{"name":"TypeError","message":"inner","cause":{"code":3}}}}',
  );
  // What JSON cannot write is a line saying so: it never fails the event (a review: a cause
  // with a cycle refused the whole run.failed; a second review: an error reached again through
  // a plain object recursed without end).
  const request: Record<string, unknown> = { path: "/candles" };
  request.socket = { request };
  const selfCaused = new Error("loop");
  selfCaused.cause = selfCaused;
  const reached = new Error("reached again");
  Object.assign(reached, { request: { error: reached }, response: { error: reached } });
  const getter = new Error("getter");
  Object.defineProperty(getter, "code", {
    enumerable: true,
    get() {
      throw new RangeError("no code");
    },
  });
  const parts = JSON.parse(written(
    Object.assign(new Error("download failed", { cause: { request } }), {
      id: 12345678901234567890n,
      body: "x".repeat(300_000),
      deep: JSON.parse("[".repeat(20) + "]".repeat(20)),
      self: selfCaused,
      reached,
      getter,
    }),
  )).x;
  assert.deepEqual(Object.keys(parts), [
    "message",
    "cause",
    "id",
    "body",
    "deep",
    "self",
    "reached",
    "getter",
  ]);
  assert.deepEqual(parts.cause, {
    request: { path: "/candles", socket: { request: "(not written: a cycle)" } },
  });
  assert.equal(parts.id, "12345678901234567890");
  assert.equal(
    parts.body,
    "(not written: 300002 characters of JSON, past the 262144 an error's parts may take)",
  );
  assert.match(JSON.stringify(parts.deep), /"\(not written: nested deeper than 16 levels\)"/);
  assert.deepEqual(parts.self, { message: "loop", cause: "(not written: a cycle)" });
  assert.deepEqual(parts.reached, {
    message: "reached again",
    request: { error: "(not written: a cycle)" },
    response: { error: "(not written: a cycle)" },
  });
  assert.deepEqual(parts.getter, {
    message: "getter",
    code: "(not written: reading it threw RangeError: no code)",
  });
  // A chain of causes keeps its first 16 levels, whatever its length.
  let chain = new Error("e0");
  for (let i = 1; i < 35; i++) chain = new Error(`e${i}`, { cause: chain });
  let level = JSON.parse(written(chain)).x;
  const messages: string[] = [];
  while (typeof level === "object") {
    messages.push(level.message);
    level = level.cause;
  }
  assert.deepEqual(messages, Array.from({ length: 16 }, (_, i) => `e${34 - i}`));
  assert.equal(level, "(not written: nested deeper than 16 levels)");
  assert.equal(
    written(new DOMException("timed out", "TimeoutError")),
    '{"x":{"name":"TimeoutError","message":"timed out"}}',
  );
  // Also beside a toJSON (a Date), which took another path (a review).
  assert.equal(
    written({ at: new Date(0), m: new Map([["k", 1]]) }),
    '{"x":{"at":"1970-01-01T00:00:00.000Z","m":{"k":1}}}',
  );
  // What JSON writes as it is, as before: a class instance's fields, a function left out.
  class Params {
    stop = 0.1;
  }
  assert.equal(written(new Params()), '{"x":{"stop":0.1}}');
  assert.equal(written(() => 1), "{}");
  assert.equal(written(undefined), "{}");
  // A run.failed given the caught Error itself is written with its message and class, not refused.
  const failed = completeEvent({
    event_type: "run.failed",
    run_id: "r1",
    error: new TypeError("bad"),
  });
  assert.equal(
    JSON.stringify((failed as unknown as { error: unknown }).error),
    '{"message":"bad","name":"TypeError"}',
  );
  assert.throws(
    () => written(new BigInt64Array([1n])),
    (err) => err instanceof ValidationError && err.field === "config.x.0",
  );
});

/** The real file system, but the next write to a part file fails once `failNext` is set. */
function oneFailedWriteFs(): { ops: DurableFsOps; failNext: () => void } {
  let fail = false;
  const ops: DurableFsOps = {
    ...REAL_FS,
    async open(path, options) {
      const file = await REAL_FS.open(path, options);
      if (!path.endsWith(".jsonl")) return file;
      return {
        ...boundFile(file),
        write: (data) => {
          if (!fail) return file.write(data);
          fail = false;
          return Promise.reject(new Error("No space left on device (os error 28)"));
        },
      };
    },
  };
  return { ops, failNext: () => (fail = true) };
}

// A review of the fixes above: after a lost group (a failed commit), the emit that hears of it
// was appended again from the caller's objects as they were then; after close() returned, that
// retry opened a writer no one closed; an acknowledged run.created lost in the group kept its id
// taken; and a closed emitter's successor forgot the ids created before.
Deno.test("emitter: after a lost group, retries write the call's values and only while open", async () => {
  await withTempDir(async (root) => {
    const seam = oneFailedWriteFs();
    const restore = useDurableFs(seam.ops);
    try {
      const emitter = new EventEmitter({ root, durability: "relaxed", log: () => {} });
      const fields = { run_type: "x", config: {}, data_fingerprint: "f" };
      assert.notEqual(await emitter.runStarted("warm"), null); // the writer is open
      await emitter.flush(); // and "warm" on disk
      assert.notEqual(await emitter.runCreated("sweep-1", fields), null); // acknowledged...
      seam.failNext();
      await emitter.flush(); // ...and lost with its group
      assert.equal(emitter.stats().failed, 1);
      // The id is free again: the lost run.created was never written.
      assert.notEqual(await emitter.runCreated("sweep-1", fields), null);
      // The next emit hears of the loss; it is appended again with its values at the call.
      seam.failNext();
      const metrics = { trial: 1 };
      const first = emitter.trialRecorded("sweep-1", { trial_id: "t1", params: {}, metrics });
      await emitter.flush(); // this group is lost (the failed write)
      metrics.trial = 2;
      const second = emitter.trialRecorded("sweep-1", { trial_id: "t2", params: {}, metrics });
      metrics.trial = 999;
      await Promise.all([first, second]);
      await emitter.close();
      const trials: string[] = [];
      for await (const record of readLog(root)) {
        if (record.kind === "event" && record.event.event_type === "trial.recorded") {
          const e = record.event as unknown as { trial_id: string; metrics: { trial: number } };
          trials.push(`${e.trial_id}=${e.metrics.trial}`);
        }
      }
      assert.deepEqual(trials, ["t2=2"]); // t1 was in the lost group; t2 as it was at its call
    } finally {
      restore();
    }
  });
});

Deno.test("emitter: a run id created by an emitter of the root is known after its close", async () => {
  await withTempDir(async (root) => {
    const fields = { run_type: "x", config: {}, data_fingerprint: "f" };
    const first = new EventEmitter({ root, log: () => {} });
    assert.notEqual(await first.runCreated("fixed", fields), null);
    await first.close();
    const logged: string[] = [];
    const second = new EventEmitter({ root, log: (m) => logged.push(m) });
    assert.notEqual(await second.runCreated("fixed", fields), null);
    assert.match(logged.join("\n"), /warning: run "fixed" already has a run\.created/);
    await second.close();
  });
});
