import assert from "node:assert/strict";
import { join } from "node:path";
import { EmitterDurabilityError, EventEmitter, getEventEmitter } from "../../ledger/emitter.ts";
import { readLog } from "../../ledger/reader.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { withTempDir } from "./_helpers.ts";

async function events(root: string): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const r of readLog(root)) if (r.kind === "event") out.push(r.event);
  return out;
}

Deno.test("emitter: one method per type, ids returned, events in the log", async () => {
  await withTempDir(async (root) => {
    const emitter = new EventEmitter({ root });
    const ids = [
      await emitter.runCreated("r1", {
        run_type: "policy",
        config: { a: 1 },
        data_fingerprint: "f",
      }),
      await emitter.runStarted("r1"),
      await emitter.phaseStarted("r1", { phase_name: "plan", phase_order: 0 }),
      await emitter.phaseCompleted("r1", {
        phase_name: "plan",
        duration_ms: 3,
        output_summary: {},
      }),
      await emitter.trialRecorded("r1", { trial_id: "t", params: {}, metrics: { x: 1 } }),
      await emitter.artifactCreated("r1", {
        artifact_type: "a",
        artifact_path: "p",
        size_bytes: 1,
      }),
      await emitter.baselineCompleted("r1", { alerts_total: 2, alerts_ok: 1, artifact_path: "p" }),
      await emitter.runCompleted("r1", { summary: {}, artifact_paths: { a: "p" } }),
      await emitter.runFailed("r1", { error: { message: "boom", code: 3 }, phase_name: "load" }),
    ];
    await emitter.close();
    const logged = await events(root);
    assert.deepEqual(logged.map((e) => e.event_id), ids);
    const started = logged[1];
    assert.ok(started.event_type === "run.started");
    assert.equal(started.pid, Deno.pid);
    assert.equal(started.host, Deno.hostname());
    assert.deepEqual(emitter.stats(), { emitted: 9, failed: 0, lastError: undefined });
  });
});

Deno.test("emitter: NaN or an infinity in an optional field is absent, as JSON writes it", async () => {
  // A probe: `runStarted(id, { pid: NaN })` was refused ("pid must be an integer >= 0, got
  // null"), so the run had no run.started; readers take NaN there as absent (SPEC 3, SPEC 4).
  await withTempDir(async (root) => {
    const logs: string[] = [];
    const emitter = new EventEmitter({ root, log: (m) => logs.push(m) });
    assert.notEqual(await emitter.runStarted("r1", { pid: NaN }), null);
    assert.notEqual(await emitter.runStarted("r1", { pid: Infinity, host: "h" }), null);
    assert.notEqual(
      await emitter.runArchived("r1", { reason: -Infinity as unknown as string }),
      null,
    );
    // A required field stays required, named with the value given (JSON said "got null").
    assert.equal(
      await emitter.phaseCompleted("r1", {
        phase_name: "p",
        duration_ms: NaN,
        output_summary: {},
      }),
      null,
    );
    await emitter.close();
    assert.deepEqual(logs, [
      "ledger emitter: ValidationError: phase.completed: duration_ms must be an integer >= 0, " +
      "got NaN (further ValidationError failures are only counted)",
    ]);
    const logged = await events(root);
    assert.deepEqual(logged.map((e) => e.event_type), [
      "run.started",
      "run.started",
      "run.archived",
    ]);
    assert.ok(!("pid" in logged[0]) && !("pid" in logged[1]) && !("reason" in logged[2]));
    assert.ok(logged[1].event_type === "run.started" && logged[1].host === "h");
  });
});

Deno.test("emitter: failures resolve to null, are counted and logged once per kind", async () => {
  await withTempDir(async (dir) => {
    const logs: string[] = [];
    const emitter = new EventEmitter({ root: dir, log: (m) => logs.push(m) });
    assert.equal(await emitter.phaseStarted("../x", { phase_name: "p", phase_order: 0 }), null);
    assert.equal(await emitter.phaseStarted("../y", { phase_name: "p", phase_order: 0 }), null);
    assert.equal(
      await emitter.phaseStarted("ok", { phase_name: "p", phase_order: "x" as unknown as number }),
      null,
    );
    const stats = emitter.stats();
    assert.equal(stats.failed, 3);
    assert.match(stats.lastError!, /phase_order must be an integer >= 0, got "x"/);
    assert.equal(logs.length, 1, "one log line per kind of failure");
    await emitter.close();

    const fileRoot = join(dir, "a-file");
    await Deno.writeTextFile(fileRoot, "");
    const broken = new EventEmitter({ root: fileRoot, log: (m) => logs.push(m) });
    assert.equal(await broken.runStarted("r"), null);
    assert.equal(await broken.runStarted("r"), null);
    assert.equal(broken.stats().failed, 2);
    assert.match(logs[1], /WriteError/);
    assert.equal(logs.length, 2);
    await broken.close();
  });
});

Deno.test("emitter: getEventEmitter is a singleton per root", async () => {
  await withTempDir(async (root) => {
    const a = getEventEmitter({ root });
    assert.equal(getEventEmitter({ root }), a);
    assert.notEqual(getEventEmitter({ root: join(root, "other") }), a);
    await getEventEmitter({ root: join(root, "other") }).close();
    assert.ok(await a.runStarted("r"));
    await a.close();
    assert.notEqual(getEventEmitter({ root }), a, "a closed singleton is replaced");
    await getEventEmitter({ root }).close();
  });
});

Deno.test("emitter: relaxed mode persists on flush", async () => {
  await withTempDir(async (root) => {
    const emitter = new EventEmitter({
      root,
      durability: "relaxed",
      writer: { groupCommitMs: 60_000 },
    });
    const id = await emitter.runStarted("r");
    await emitter.flush();
    assert.deepEqual((await events(root)).map((e) => e.event_id), [id]);
    await emitter.close();
  });
});

// A black-box audit: asking for a durable emitter where a relaxed one was open returned the
// relaxed one, so "durable" writes were not durable, silently.
Deno.test("getEventEmitter refuses a durability other than the open emitter's", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger_emitter_dur_" });
  try {
    const relaxed = getEventEmitter({ root, durability: "relaxed" });
    assert.throws(
      () => getEventEmitter({ root, durability: "durable" }),
      (err: unknown) =>
        err instanceof EmitterDurabilityError && err.open === "relaxed" && err.asked === "durable",
    );
    assert.equal(getEventEmitter({ root }), relaxed, "no durability named: the open one");
    assert.equal(getEventEmitter({ root, durability: "relaxed" }), relaxed);
    await relaxed.close();
    const durable = getEventEmitter({ root, durability: "durable" });
    assert.equal(durable.durability, "durable");
    await durable.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("emitter: close() of a relative root's singleton lets getEventEmitter make a new one", async () => {
  // An audit: close() looked the singleton up by the root as spelled, getEventEmitter keyed it
  // by its resolved path, so a relative root's closed emitter was handed out again.
  const dir = await Deno.makeTempDir();
  const cwd = Deno.cwd();
  try {
    Deno.chdir(dir);
    const first = getEventEmitter({ root: "relroot" });
    assert.notEqual(await first.runStarted("r1"), null);
    await first.close();
    const second = getEventEmitter({ root: "relroot/", durability: "relaxed" });
    assert.notEqual(second, first);
    assert.equal(second.durability, "relaxed");
    await second.close();
  } finally {
    Deno.chdir(cwd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("emitter: no thrown value and no log callback makes an emit throw or reject", async () => {
  // An audit: #fail read err.name and String(err), and called the log callback, unguarded.
  const root = await Deno.makeTempDir();
  try {
    const logged: string[] = [];
    const emitter = new EventEmitter({ root, log: (m) => logged.push(m) });
    assert.notEqual(await emitter.runStarted("ok"), null); // the writer is open: no async frame
    const bare = Object.create(null);
    const badName = new Error("x");
    Object.defineProperty(badName, "name", {
      get() {
        throw new Error("name getter");
      },
    });
    for (const thrown of [bare, badName]) {
      const fields = {
        run_type: "x",
        data_fingerprint: "f",
        get config(): Record<string, unknown> {
          throw thrown;
        },
      };
      let result: Promise<string | null> | undefined;
      assert.doesNotThrow(() => {
        result = emitter.runCreated("r", fields);
      });
      assert.equal(await result, null);
    }
    assert.equal(emitter.stats().failed, 2);
    assert.match(logged.join("\n"), /unprintable: a thrown object that cannot be printed/);
    const throwingLog = new EventEmitter({
      root,
      log: () => {
        throw new Error("logger broke");
      },
    });
    assert.equal(await throwingLog.runStarted("../bad"), null);
    assert.match(throwingLog.stats().lastError ?? "", /and the log callback threw: logger broke/);
    await emitter.close();
    await throwingLog.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
