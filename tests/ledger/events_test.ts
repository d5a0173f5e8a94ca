import assert from "node:assert/strict";
import {
  completeEvent,
  encodeEventLine,
  EVENT_TYPES,
  LINE_BYTES_MAX,
  validateEvent,
} from "../../ledger/events.ts";
import { EventTooLargeError, ValidationError } from "../../ledger/errors.ts";
import { eventIdTimestampMs, newEventId, UUID_V7_PATTERN } from "../../ledger/ids.ts";
import { annotationInputs, PYTHON_LINES, sampleInputs } from "./_helpers.ts";

function messageOf(input: unknown): string {
  try {
    completeEvent(input);
  } catch (err) {
    assert.ok(err instanceof ValidationError, `expected ValidationError, got ${err}`);
    return err.message;
  }
  assert.fail("expected a ValidationError");
}

Deno.test("events: every type validates and keeps its fields", async (t) => {
  const inputs = [...sampleInputs("run-1"), ...annotationInputs("run-1")];
  assert.deepEqual(inputs.map((i) => i.event_type), [...EVENT_TYPES]);
  for (const input of inputs) {
    await t.step(input.event_type, () => {
      const event = completeEvent({ ...input, extra_field: { kept: true } });
      assert.match(event.event_id, UUID_V7_PATTERN);
      assert.equal(event.schema_version, 1);
      assert.ok(Math.abs(event.timestamp_ms - Date.now()) < 5000);
      for (const [key, value] of Object.entries(input)) {
        assert.deepEqual((event as Record<string, unknown>)[key], value);
      }
      assert.deepEqual((event as Record<string, unknown>).extra_field, { kept: true });
      const line = new TextDecoder().decode(encodeEventLine(event));
      assert.ok(line.endsWith("}\n") && !line.slice(0, -1).includes("\n"));
      assert.deepEqual(validateEvent(JSON.parse(line)), event);
    });
  }
});

Deno.test("events: error messages name type, field, expectation and value", async (t) => {
  const cases: [string, unknown, string][] = [
    [
      "wrong type",
      {
        event_type: "phase.completed",
        run_id: "r",
        phase_name: "p",
        duration_ms: "abc",
        output_summary: {},
      },
      'phase.completed: duration_ms must be an integer >= 0, got "abc"',
    ],
    [
      "missing field",
      { event_type: "run.created", run_id: "r", run_type: "b", data_fingerprint: "f" },
      "run.created: config is required",
    ],
    [
      "array for object",
      { event_type: "run.created", run_id: "r", run_type: "b", data_fingerprint: "f", config: [] },
      "run.created: config must be an object, got []",
    ],
    [
      "unknown type",
      { event_type: "foo", run_id: "r" },
      'unknown event_type "foo" (expected one of: run.created, run.started, phase.started, ' +
      "phase.completed, trial.recorded, artifact.created, baseline.completed, run.completed, run.failed, " +
      "run.tagged, run.noted, run.archived, run.restored)",
    ],
    [
      "negative count",
      { event_type: "phase.started", run_id: "r", phase_name: "p", phase_order: -1 },
      "phase.started: phase_order must be an integer >= 0, got -1",
    ],
    [
      "nested message",
      { event_type: "run.failed", run_id: "r", error: {} },
      "run.failed: error.message is required",
    ],
    [
      "object of strings",
      { event_type: "run.completed", run_id: "r", summary: {}, artifact_paths: { a: 1 } },
      "run.completed: artifact_paths.a must be a string, got 1",
    ],
    [
      "pid",
      { event_type: "run.started", run_id: "r", pid: 1.5 },
      "run.started: pid must be an integer >= 0, got 1.5",
    ],
    ["not an object", [1], "event must be a JSON object, got [1]"],
    ["no type", { run_id: "r" }, "event_type is required"],
    [
      "unknown version",
      { event_type: "run.started", run_id: "r", schema_version: 9 },
      "run.started: schema_version must be one of 1, got 9",
    ],
  ];
  for (const [name, input, expected] of cases) {
    await t.step(name, () => assert.equal(messageOf(input), expected));
  }
  await t.step("error fields", () => {
    try {
      completeEvent({
        event_type: "artifact.created",
        run_id: "r",
        artifact_type: "a",
        artifact_path: "p",
        size_bytes: "x",
      });
      assert.fail("expected an error");
    } catch (err) {
      assert.ok(err instanceof ValidationError);
      assert.equal(err.field, "size_bytes");
      assert.equal(err.expected, "an integer >= 0");
      assert.equal(err.got, '"x"');
      assert.equal(err.eventType, "artifact.created");
    }
  });
});

Deno.test("events: run ids are path-safe for new events, lenient in read mode", async (t) => {
  for (const bad of ["../x", "a/b", "", ".hidden", "x".repeat(129), "a b"]) {
    await t.step(JSON.stringify(bad.slice(0, 10)), () => {
      assert.match(
        messageOf({ event_type: "run.started", run_id: bad }),
        /run_id must be a string matching/,
      );
    });
  }
  await t.step("read mode", () => {
    const event = validateEvent(
      { event_type: "run.started", event_id: "e1", timestamp_ms: 1, run_id: "old/run id" },
      { mode: "read" },
    );
    assert.equal(event.run_id, "old/run id");
  });
});

Deno.test("events: Python-format lines are valid (no schema_version means 1)", () => {
  for (const line of PYTHON_LINES) {
    const event = validateEvent(JSON.parse(line));
    assert.equal(event.schema_version, 1);
    assert.match(event.event_id, /^\d{13}_[0-9a-f]{8}$/);
  }
  const last = validateEvent(JSON.parse(PYTHON_LINES[2])) as Record<string, unknown>;
  assert.equal(last.legacy_extra, "kept");
});

Deno.test("events: given envelope values are kept", () => {
  const event = completeEvent({
    event_type: "run.started",
    run_id: "r",
    event_id: "1768867200000_a1b2c3d4",
    timestamp_ms: 1768867200000,
  });
  assert.equal(event.event_id, "1768867200000_a1b2c3d4");
  assert.equal(event.timestamp_ms, 1768867200000);
});

Deno.test("events: validateEvent reads NaN in an optional field as absent, as the line checks do", () => {
  const envelope = { event_id: "e1", timestamp_ms: 1000, run_id: "r1" };
  for (const mode of ["read", "write"] as const) {
    const event = validateEvent({ event_type: "run.started", ...envelope, pid: NaN }, { mode });
    assert.ok(!("pid" in event), mode); // it threw in read mode, where checkEventLine accepts
  }
  assert.throws(
    () => validateEvent({ event_type: "run.started", ...envelope, timestamp_ms: Infinity }),
    /timestamp_ms must be an integer between 0 and \d+, got Infinity$/,
  );
});

Deno.test("events: oversize event is refused", () => {
  const event = completeEvent({
    event_type: "trial.recorded",
    run_id: "r",
    trial_id: "t",
    params: { blob: "x".repeat(LINE_BYTES_MAX) },
    metrics: {},
  });
  assert.throws(() => encodeEventLine(event), EventTooLargeError);
});

Deno.test("ids: UUIDv7, unique, increasing, carry their time", () => {
  const ids = Array.from({ length: 5000 }, () => newEventId());
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} < ${ids[i]}`);
  for (const id of ids.slice(0, 10)) assert.match(id, UUID_V7_PATTERN);
  // 5000 ids draw on the random pool about ten times: no random tail repeats across refills.
  assert.equal(new Set(ids.map((id) => id.slice(-12))).size, ids.length);
  const ms = eventIdTimestampMs(ids[0])!;
  assert.ok(Math.abs(ms - Date.now()) < 5000);
});

// A black-box audit: a BigInt in an object field threw JSON.stringify's bare TypeError.
Deno.test("a BigInt anywhere in an event is a ValidationError naming its path", async () => {
  const { openWriter } = await import("../../ledger/writer.ts");
  const input = {
    event_type: "run.completed",
    run_id: "r1",
    summary: { nested: { calls: 3n } },
    artifact_paths: {},
  };
  assert.throws(
    () => completeEvent(input),
    (err: unknown) =>
      err instanceof ValidationError && err.field === "summary.nested.calls" &&
      /BigInt is not JSON.*got 3n/.test(err.message),
  );
  const root = await Deno.makeTempDir({ prefix: "ledger_bigint_" });
  try {
    const writer = await openWriter(root);
    await assert.rejects(writer.append(input as never), ValidationError);
    await writer.close();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// Probes of the emitter: a class instance as `metrics` was refused as "must be an object, got
// {"a":1}", and an object with a Symbol key as "metrics.Symbol(s) must be an object, got 2".
Deno.test("events: a class instance and a Symbol key are refused in words that say so", () => {
  class Cfg {
    a = 1;
  }
  const trial = (metrics: unknown) => ({
    event_type: "trial.recorded",
    run_id: "r1",
    trial_id: "t1",
    params: {},
    metrics,
  });
  assert.match(
    messageOf(trial(new Cfg())),
    /metrics must be an object, got an instance of Cfg \(a plain object is expected\), \{"a":1\}/,
  );
  assert.match(
    messageOf(trial({ a: 1, [Symbol("s")]: 2 })),
    /metrics must be an object of string keys \(JSON has no Symbol keys\), got a Symbol key Symbol\(s\)/,
  );
});
