/**
 * The writer's zod-free fast path (`ledger/event_write.ts`) against the zod
 * registry (`ledger/events.ts`): on a table of valid events of every type
 * and mutations of every field, the fast path accepts only what zod
 * accepts, makes the same line from it, and declines no valid JSON event
 * (so `ledger emit` and relaxed appends never need zod for one).
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  CURRENT_FIELDS,
  EVENT_DEFINITIONS,
  EVENT_TYPES,
  validateEvent,
} from "../../ledger/events.ts";
import {
  checkFilledEvent,
  checkLoggedEvent,
  completeEventFast,
  encodeEventJson,
  encodeEventLine,
  encodeEventText,
  fillEvent,
} from "../../ledger/event_write.ts";
import { EventTooLargeError } from "../../ledger/errors.ts";
import { LINE_BYTES_MAX } from "../../ledger/limits.ts";
import { CURRENT_SCHEMA_VERSION, EVENT_FIELD_RULES } from "../../ledger/field_rules.ts";
import { completeEvent } from "../../ledger/events.ts";
import { ValidationError } from "../../ledger/errors.ts";
import { openWriter } from "../../ledger/writer.ts";
import { join } from "node:path";

const NOW_MS = Date.UTC(2026, 10, 29);

/** One valid event of each type, every optional field present. */
const BASE: Record<string, Record<string, unknown>> = {
  "run.created": { run_type: "policy", config: { stop: 0.2 }, data_fingerprint: "fp" },
  "run.started": { host: "h1", pid: 42 },
  "phase.started": { phase_name: "load", phase_order: 0 },
  "phase.completed": { phase_name: "load", duration_ms: 12, output_summary: { rows: 3 } },
  "trial.recorded": { trial_id: "t1", params: { a: 1 }, metrics: { sharpe: 1.2 } },
  "artifact.created": { artifact_type: "paths", artifact_path: "a/b.parquet", size_bytes: 10 },
  "baseline.completed": { alerts_total: 5, alerts_ok: 4, artifact_path: "x.parquet" },
  "run.completed": { summary: { calls: 3 }, artifact_paths: { paths: "a/b.parquet" } },
  "run.failed": { error: { message: "boom", code: 7 }, phase_name: "load" },
  "run.tagged": { tags: { label: "best" } },
  "run.noted": { note: "looked fine" },
  "run.archived": { reason: "old" },
  "run.restored": {},
};

function nested(depth: number): unknown {
  let value: unknown = 1;
  for (let i = 0; i < depth; i++) value = { k: value };
  return value;
}

const symbolKeyed: Record<string | symbol, unknown> = { a: 1 };
symbolKeyed[Symbol("s")] = 2;

/** Values every field is set to: `json` says whether JSON can carry it. */
const VALUES: [string, () => unknown, boolean][] = [
  ["absent", () => undefined, true],
  ["null", () => null, true],
  ["empty string", () => "", true],
  ["string", () => "x", true],
  ["string with space", () => "a b", true],
  ["256 chars", () => "x".repeat(256), true],
  ["257 chars", () => "x".repeat(257), true],
  ["lone surrogate", () => "\ud800x", true],
  ["emoji", () => "🚀", true],
  ["zero", () => 0, true],
  ["minus zero", () => -0, false],
  ["negative", () => -1, true],
  ["fraction", () => 1.5, true],
  ["whole float", () => 5.0, true],
  ["2^53", () => 2 ** 53, true],
  ["max timestamp", () => 253_402_300_799_999, true],
  ["past max timestamp", () => 253_402_300_800_000, true],
  ["NaN", () => NaN, false],
  ["Infinity", () => Infinity, false],
  ["true", () => true, true],
  ["array", () => [1, "a"], true],
  ["empty array", () => [], true],
  ["empty object", () => ({}), true],
  ["object of numbers", () => ({ a: 1, b: 2 }), true],
  ["object of strings", () => ({ a: "s", b: "" }), true],
  ["error object", () => ({ code: 1, message: "m" }), true],
  ["error object, numeric message", () => ({ message: 5 }), true],
  ["object with a null", () => ({ a: null }), true],
  ["nested 63 deep", () => nested(63), true],
  ["nested 64 deep", () => nested(64), true],
  ["lone surrogate key", () => ({ ["\udc00"]: 1 }), true],
  ["lone surrogate deep", () => ({ a: ["ok", { b: "\ud83d" }] }), true],
  ["__proto__ key", () => JSON.parse('{"__proto__": {"x": 1}, "b": "2"}'), true],
  ["toString key", () => ({ toString: "s" }), true],
  ["Date", () => new Date(0), false],
  ["Map", () => new Map([["a", 1]]), false],
  ["null prototype", () => Object.assign(Object.create(null), { a: "1" }), false],
  ["symbol key", () => ({ ...symbolKeyed }), false],
  ["undefined inside", () => ({ a: undefined, b: "s" }), false],
];

const ENVELOPE = ["event_id", "timestamp_ms", "run_id", "schema_version"];

interface Case {
  name: string;
  input: Record<string, unknown>;
  json: boolean;
}

function cases(): Case[] {
  const out: Case[] = [];
  for (const type of EVENT_TYPES) {
    const base = { event_type: type, run_id: "run-1", ...BASE[type] };
    out.push({ name: `${type} as given`, input: base, json: true });
    const fields = [...ENVELOPE, ...Object.keys(CURRENT_FIELDS[type]), "extra"];
    for (const field of fields) {
      for (const [label, make, json] of VALUES) {
        const input: Record<string, unknown> = { ...base };
        const value = make();
        if (value === undefined) delete input[field];
        else input[field] = value;
        out.push({ name: `${type}.${field} = ${label}`, input, json });
      }
    }
    for (
      const [key, value] of [["schema_version", 1], ["schema_version", 2], ["schema_version", "1"]]
    ) {
      out.push({
        name: `${type}.${key} = ${JSON.stringify(value)}`,
        input: { ...base, [key]: value },
        json: true,
      });
    }
    const withProto = JSON.parse(`{"__proto__": 1, "event_type": "${type}", "run_id": "r1"}`);
    out.push({
      name: `${type} with a top-level __proto__ key`,
      input: { ...withProto, ...BASE[type] },
      json: true,
    });
    const bad = ["bad run id", "-lead", "x".repeat(129), "ok.id_1-2"];
    for (const runId of bad) {
      out.push({
        name: `${type}.run_id = ${runId.slice(0, 12)}`,
        input: { ...base, run_id: runId },
        json: true,
      });
    }
  }
  return out;
}

function zodVerdict(filled: Record<string, unknown>): { line?: string; error?: string } {
  try {
    return { line: JSON.stringify(validateEvent(filled, { mode: "write" })) };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return { error: err.message };
  }
}

Deno.test("field_rules.ts has the zod registry's types, fields, order and versions", () => {
  assert.deepEqual(Object.keys(EVENT_FIELD_RULES), [...EVENT_TYPES]);
  for (const type of EVENT_TYPES) {
    assert.deepEqual(
      EVENT_FIELD_RULES[type].map((r) => r.field),
      Object.keys(CURRENT_FIELDS[type]),
      type,
    );
    assert.equal(EVENT_DEFINITIONS[type].currentVersion, CURRENT_SCHEMA_VERSION, type);
  }
});

Deno.test("the fast path accepts only what zod accepts, with the same line, and every valid JSON event", () => {
  let accepted = 0;
  let declinedValid = 0;
  const all = cases();
  for (const c of all) {
    const filled = fillEvent(c.input, { nowMs: NOW_MS });
    assert.ok(filled !== undefined, `${c.name}: a registered type fills`);
    const fast = checkFilledEvent(filled);
    const zod = zodVerdict(filled);
    // The writer's fused path (no intermediate copy) gives the same answer.
    const direct = completeEventFast(c.input, { nowMs: NOW_MS });
    assert.equal(direct === undefined, fast === undefined, `${c.name}: fused path differs`);
    if (direct !== undefined) {
      const sameId = { ...direct, event_id: filled.event_id };
      assert.equal(JSON.stringify(sameId), JSON.stringify(fast), `${c.name}: fused line differs`);
    }
    if (fast !== undefined) {
      accepted += 1;
      assert.equal(zod.error, undefined, `${c.name}: the fast path accepts what zod refuses`);
      if (JSON.stringify(c.input).includes('"__proto__"')) {
        // A "__proto__" key is kept (zod alone drops it), as every reader keeps it (SPEC 4);
        // zod's path puts a top-level one last.
        assert.ok(JSON.stringify(fast).includes('"__proto__"'), `${c.name}: key kept`);
        assert.deepEqual(sortedKeys(fast), sortedKeys(JSON.parse(zod.line!)), c.name);
      } else {
        assert.equal(JSON.stringify(fast), zod.line, `${c.name}: a different line`);
      }
    } else if (zod.line !== undefined) {
      declinedValid += 1;
      // Only values JSON cannot carry are left to zod.
      assert.ok(!c.json, `${c.name}: declined`);
    }
  }
  console.log(
    `${all.length} cases: fast path accepted ${accepted}, left ${declinedValid} valid ones to zod`,
  );
  assert.ok(accepted > 500, "the table exercises the accepting path");
});

Deno.test("the reader's fast path gives read mode's event, key for key, or leaves it to zod", () => {
  let accepted = 0;
  for (const c of cases()) {
    // A line as a writer left it (envelope filled) and as given (fields may be missing).
    for (const value of [fillEvent(c.input, { nowMs: NOW_MS }), c.input]) {
      const fast = checkLoggedEvent(value);
      let zod: string | undefined;
      try {
        zod = JSON.stringify(validateEvent(value, { mode: "read" }));
      } catch (err) {
        if (!(err instanceof ValidationError)) throw err;
      }
      if (fast === undefined) continue;
      accepted += 1;
      assert.equal(JSON.stringify(fast), zod, `${c.name}: read mode gives another event`);
    }
  }
  assert.ok(accepted > 500, "the table exercises the accepting path");
  // zod's path puts a top-level "__proto__" key after the other unknown keys: left to zod.
  const proto = JSON.parse(
    '{"event_type":"run.noted","event_id":"e1","timestamp_ms":1,"run_id":"r1","note":"n",' +
      '"__proto__":1,"extra":2}',
  );
  assert.equal(checkLoggedEvent(proto), undefined);
  assert.deepEqual(Object.keys(validateEvent(proto, { mode: "read" })).slice(-2), [
    "extra",
    "__proto__",
  ]);
  // A line without schema_version (the Python writer's) is read as version 1 on both paths.
  const python = {
    event_type: "run.noted",
    event_id: "e1",
    timestamp_ms: 1,
    run_id: "r 1",
    note: "n",
  };
  const pythonFast = checkLoggedEvent({ ...python, run_id: "r1" });
  assert.equal(
    JSON.stringify(pythonFast),
    JSON.stringify(validateEvent({ ...python, run_id: "r1" }, { mode: "read" })),
  );
  assert.equal(pythonFast?.schema_version, 1);
});

Deno.test("completeEvent takes the fast path and still names what is wrong", () => {
  const event = completeEvent({ event_type: "run.noted", run_id: "r1", note: "n" }, { nowMs: 5 });
  assert.equal(event.timestamp_ms, 5);
  assert.deepEqual(
    JSON.parse(new TextDecoder().decode(encodeEventLine(event))),
    JSON.parse(JSON.stringify(event)),
  );
  assert.throws(
    () =>
      completeEvent({ event_type: "phase.started", run_id: "r1", phase_name: "", phase_order: 0 }),
    (err: unknown) => err instanceof ValidationError && err.message.includes("phase_name"),
  );
  assert.throws(() => completeEvent([1]), ValidationError);
  assert.throws(() => completeEvent({ event_type: "no.such", run_id: "r1" }), ValidationError);
  assert.equal(completeEventFast({ event_type: "no.such", run_id: "r1" }), undefined);
  for (const type of ["toString", "constructor", "__proto__", 5]) {
    assert.equal(completeEventFast({ event_type: type, run_id: "r1" }), undefined, String(type));
    assert.equal(checkFilledEvent({ event_type: type, run_id: "r1" }), undefined, String(type));
    assert.throws(() => completeEvent({ event_type: type, run_id: "r1" }), ValidationError);
  }
});

Deno.test("encodeEventJson counts a line's UTF-8 bytes exactly, up to the limit and past it", () => {
  // One character of each UTF-8 length; notes padded so the line lands on the limit or one past.
  for (const char of ["a", "é", "€", "😀"]) {
    const bare = completeEvent({ event_type: "run.noted", run_id: "r1", note: "" }, { nowMs: 5 });
    const bareBytes = encodeEventLine(bare).length;
    const charBytes = new TextEncoder().encode(char).length;
    const count = Math.floor((LINE_BYTES_MAX - bareBytes) / charBytes);
    const pad = "a".repeat(LINE_BYTES_MAX - bareBytes - count * charBytes);
    for (const extra of ["", "a"]) {
      const event = { ...bare, note: char.repeat(count) + pad + extra };
      if (extra === "") {
        const { json, bytes } = encodeEventJson(event);
        const line = encodeEventText(event);
        assert.equal(bytes, LINE_BYTES_MAX, `${char}: a line of exactly the limit`);
        assert.equal(bytes, encodeEventLine(event).length, `${char}: the same count`);
        assert.equal(json + "\n", line.text);
        assert.equal(line.bytes, bytes);
      } else {
        assert.throws(() => encodeEventJson(event), EventTooLargeError, `${char}: one byte over`);
        assert.throws(() => encodeEventLine(event), EventTooLargeError);
        assert.throws(() => encodeEventText(event), EventTooLargeError);
      }
    }
  }
  // Far past the limit (the text does not fit the measuring buffer at all).
  const huge = completeEvent({
    event_type: "run.noted",
    run_id: "r1",
    note: "€".repeat(LINE_BYTES_MAX),
  });
  assert.throws(
    () => encodeEventJson(huge),
    (err: unknown) =>
      err instanceof EventTooLargeError && err.message.includes(String(LINE_BYTES_MAX)),
  );
});

Deno.test("the fast path tests every new run id, also right after a valid one", () => {
  // It remembers the last run id that passed, so a run's events test it once.
  const verdict = (run_id: string) =>
    completeEventFast({ event_type: "run.started", run_id }) !== undefined;
  assert.deepEqual(
    ["r1", "r1", "", "r1", "bad id", "bad id", "r2", "r1", ".r"].map(verdict),
    [true, true, false, true, false, false, true, true, false],
  );
});

/** `value` as JSON text with every object's keys sorted ("__proto__" kept as a key). */
function sortedKeys(value: unknown): string {
  return JSON.stringify(value, (_key, v) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      Object.defineProperty(out, k, { value: v[k], enumerable: true, writable: true });
    }
    return out;
  });
}

Deno.test("a __proto__ key in an event is written as a key, at every level", async () => {
  const root = await Deno.makeTempDir();
  try {
    const writer = await openWriter(root);
    const created = JSON.parse(
      '{"event_type":"run.created","run_id":"p1","run_type":"x","data_fingerprint":"f",' +
        '"config":{"__proto__":{"polluted":1},"keep":1},"__proto__":{"top":1}}',
    );
    const completed = JSON.parse(
      '{"event_type":"run.completed","run_id":"p1","summary":{"__proto__":5,"a":{"__proto__":[1]}},' +
        '"artifact_paths":{"__proto__":"x"},"error_like":{"__proto__":2}}',
    );
    await writer.appendBatch([created, completed]);
    await writer.close();
    const lines: string[] = [];
    for await (const e of Deno.readDir(join(root, "events"))) {
      if (!e.isDirectory) continue; // _schema.json
      for await (const f of Deno.readDir(join(root, "events", e.name))) {
        lines.push(
          ...(await Deno.readTextFile(join(root, "events", e.name, f.name))).trim().split("\n"),
        );
      }
    }
    const [first, second] = lines;
    assert.match(first, /"config":\{"__proto__":\{"polluted":1\},"keep":1\}/);
    assert.match(first, /"__proto__":\{"top":1\}/);
    assert.match(second, /"summary":\{"__proto__":5,"a":\{"__proto__":\[1\]\}\}/);
    assert.match(second, /"artifact_paths":\{"__proto__":"x"\}/);
    // A string map's "__proto__" must be a string, whichever path validates it.
    const bad = JSON.parse(
      '{"event_type":"run.completed","run_id":"p1","summary":{},"artifact_paths":{"__proto__":{}}}',
    );
    assert.throws(() => completeEvent(bad), /artifact_paths\.__proto__ must be a string/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("what a toJSON returns is what is validated, and what is written", async (t) => {
  const completed = (summary: unknown) => ({
    event_type: "run.completed",
    run_id: "tj",
    summary,
    artifact_paths: {},
  });
  await t.step("a toJSON that turns a field into another type is refused, naming it", () => {
    // An audit: this was acknowledged, then refused by verify and the indexer.
    assert.throws(() => completeEvent(completed({ toJSON: () => [1] })), /summary/);
    assert.equal(completeEventFast(completed({ toJSON: () => ({}) })), undefined); // zod's path
  });
  await t.step("a nested toJSON's text and depth are checked like any value", () => {
    const cut = { name: { toJSON: () => "BTC \ud83d" } };
    assert.throws(() => completeEvent(completed(cut)), /well-formed Unicode/);
    let deep: unknown = 1;
    for (let i = 0; i < 100; i++) deep = { d: deep };
    assert.throws(() => completeEvent(completed({ x: { toJSON: () => deep } })), /levels deep/);
  });
  await t.step("an exact integer beside a Date or a Map keeps its digits", () => {
    // A probe: the line was read back with JSON.parse, which rounded the seed to ...992.
    const seed = (JSON as unknown as { rawJSON(t: string): unknown }).rawJSON("9007199254740993");
    for (const beside of [new Date(0), new Map([["k", 1]])]) {
      const event = completeEvent(completed({ seed, beside }));
      assert.match(new TextDecoder().decode(encodeEventLine(event)), /"seed":9007199254740993,/);
    }
  });
  await t.step("a Date in a config is kept as the text JSON.stringify writes for it", () => {
    const when = new Date(Date.UTC(2026, 0, 20));
    const event = completeEvent({
      event_type: "run.created",
      run_id: "tj",
      run_type: "bt",
      data_fingerprint: "fp",
      config: { when, n: 1 },
    });
    assert.deepEqual((event as { config: unknown }).config, {
      when: "2026-01-20T00:00:00.000Z",
      n: 1,
    });
    assert.match(new TextDecoder().decode(encodeEventLine(event)), /"when":"2026-01-20T00:00/);
  });
  await t.step("each toJSON runs once: the line holds the value that was validated", () => {
    let calls = 0;
    const flaky = { toJSON: () => (++calls === 1 ? { ok: true } : [1]) };
    const event = completeEvent(completed(flaky));
    assert.equal(calls, 1);
    assert.deepEqual((event as { summary: unknown }).summary, { ok: true });
    assert.match(new TextDecoder().decode(encodeEventLine(event)), /"summary":\{"ok":true\}/);
    assert.equal(calls, 1);
  });
  await t.step("a toJSON on the event, one that throws, and a BigInt beside one", () => {
    const whole = { toJSON: () => completed([1]) };
    assert.throws(() => completeEvent(whole), ValidationError);
    const throwing = {
      toJSON: () => {
        throw new TypeError("no");
      },
    };
    assert.throws(() => completeEvent(completed(throwing)), ValidationError);
    const big = { n: 5n, d: new Date(0) };
    assert.throws(() => completeEvent(completed(big)), /summary\.n/);
  });
  await t.step("the writer writes nothing for a refused one", async () => {
    const root = await Deno.makeTempDir();
    try {
      const writer = await openWriter(root);
      await assert.rejects(writer.append(completed({ toJSON: () => [1] }) as never), /summary/);
      await writer.append(completed({ toJSON: () => ({ ok: 1 }) }) as never);
      await writer.close();
      const lines: string[] = [];
      for await (const e of Deno.readDir(join(root, "events"))) {
        if (!e.isDirectory) continue;
        for await (const f of Deno.readDir(join(root, "events", e.name))) {
          lines.push(
            ...(await Deno.readTextFile(join(root, "events", e.name, f.name))).trim()
              .split("\n"),
          );
        }
      }
      assert.equal(lines.length, 1);
      assert.match(lines[0], /"summary":\{"ok":1\}/);
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
});

Deno.test("a supplied event_id holds no control character and is not only white space", () => {
  // An audit: "a\nb\u0000" was written and printed as two lines of emit's one id per line.
  const noted = (event_id: unknown) => ({
    event_type: "run.noted",
    run_id: "r1",
    note: "n",
    event_id,
  });
  for (const bad of ["a\nb\u0000", "  ", "\t", "x\u007f"]) {
    assert.equal(completeEventFast(noted(bad)), undefined);
    assert.throws(() => completeEvent(noted(bad)), /event_id must be a string with no control/);
  }
  for (const good of ["1768867200000_a1b2c3d4", "import 7 / ü", " padded "]) {
    assert.equal(completeEvent(noted(good)).event_id, good);
  }
  // A line already in a log is read as it is: any non-empty id.
  const line = { ...noted("a\nb"), timestamp_ms: 1, schema_version: 1 };
  assert.equal(validateEvent(line, { mode: "read" }).event_id, "a\nb");
});
