/**
 * One definition of a valid line (issue 19.1): the same table of lines gets
 * the same verdict from the writer (which refuses what would be invalid),
 * the reader that `verify` uses, and the indexer (rebuild, then `events` and
 * `ingest_errors`). The rules are listed in docs/EVENTS.md.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { completeEvent, encodeEventLine, LINE_BYTES_MAX } from "../../ledger/events.ts";
import { EventTooLargeError, ValidationError } from "../../ledger/errors.ts";
import { JSON_DEPTH_MAX } from "../../ledger/json_text.ts";
import { type LogRecord, readPartFile } from "../../ledger/reader.ts";
import { verifyLog } from "../../ledger/verify.ts";
import { openWriter } from "../../ledger/writer.ts";
import { EventEmitter } from "../../ledger/emitter.ts";
import { query } from "../indexer/_fixtures.ts";

const DAY = "day=2026-01-20";
const T0 = Date.UTC(2026, 0, 20);
const BOM = "\uFEFF";

/** A run.started line with `extra` fields spliced in as raw JSON text. */
function started(id: string, extra = ""): string {
  return `{"event_type":"run.started","event_id":"e-${id}","timestamp_ms":${T0},` +
    `"run_id":"r-${id}"${extra}}`;
}
function created(id: string, fields: string): string {
  return `{"event_type":"run.created","event_id":"e-${id}","timestamp_ms":${T0},` +
    `"run_id":"r-${id}",${fields}}`;
}
function phaseDone(id: string, duration: string, summary = "{}"): string {
  return `{"event_type":"phase.completed","event_id":"e-${id}","timestamp_ms":${T0},` +
    `"run_id":"r-${id}","phase_name":"load","duration_ms":${duration},` +
    `"output_summary":${summary}}`;
}
function failed(id: string, error: string): string {
  return `{"event_type":"run.failed","event_id":"e-${id}","timestamp_ms":${T0},` +
    `"run_id":"r-${id}","error":${error}}`;
}
function tagged(id: string, tags: string): string {
  return `{"event_type":"run.tagged","event_id":"e-${id}","timestamp_ms":${T0},` +
    `"run_id":"r-${id}","tags":${tags}}`;
}
function completed(id: string, paths: string): string {
  return `{"event_type":"run.completed","event_id":"e-${id}","timestamp_ms":${T0},` +
    `"run_id":"r-${id}","summary":{},"artifact_paths":${paths}}`;
}
function nested(levels: number): string {
  return "[".repeat(levels) + "]".repeat(levels);
}
/**
 * An object as deep as `{"a": nested(levels)}`: pairs, empty arrays,
 * objects and arrays of every smaller height, strings holding brackets,
 * and one chain of objects and arrays `levels` deep.
 */
function wide(levels: number): string {
  const chain = (n: number): string =>
    n === 0 ? `"]}"` : n % 2 === 0 ? `{"k":${chain(n - 1)}}` : `[0,${chain(n - 1)}]`;
  const items: string[] = [];
  for (let h = 1; h < levels; h += 3) items.push(chain(h), "[[0,1],[2,3]]", "[]", `"[[{"`);
  return `{"a":[${items.join(",")}],"b":${chain(levels)}}`;
}
/** A valid run.created line of exactly `bytes` bytes, newline included. */
function createdOfSize(id: string, bytes: number): string {
  const head = created(id, `"run_type":"x","data_fingerprint":"f","config":{"pad":"`);
  return head + "x".repeat(bytes - 1 - head.length - 3) + `"}}`;
}

/** A run.created input whose line, as the writer encodes it, is exactly `bytes` long. */
function writerEventOfSize(runId: string, bytes: number): Record<string, unknown> {
  const input = {
    event_type: "run.created",
    run_id: runId,
    timestamp_ms: T0 + 1,
    event_id: `e-${runId}`,
    run_type: "x",
    data_fingerprint: "f",
    config: { pad: "" },
  };
  const base = encodeEventLine(completeEvent(input)).length;
  return { ...input, config: { pad: "x".repeat(bytes - base) } };
}

interface LineCase {
  name: string;
  /** The line's text without its newline (a BOM case starts with U+FEFF). */
  text: string;
  valid: boolean;
  /** The reason reader and indexer both give, for an invalid line whose reason is checked. */
  reason?: string;
  /** Put a valid line before it (the case is not the first line of its file). */
  second?: boolean;
}

const CASES: LineCase[] = [
  { name: "plain event", text: started("plain"), valid: true },
  { name: "lone high surrogate escape", text: started("hi", `,"host":"\\ud83d"`), valid: false },
  { name: "lone low surrogate escape", text: started("lo", `,"host":"x\\ude80"`), valid: false },
  { name: "surrogate pair escape", text: started("pair", `,"host":"\\ud83d\\ude80"`), valid: true },
  {
    name: "timestamp_ms written 1768867200000.0",
    text: started("tsdot").replace(`${T0}`, `${T0}.0`),
    valid: true,
  },
  {
    name: "timestamp_ms written 1.7688672e12",
    text: started("tsexp").replace(`${T0}`, `1.7688672e12`),
    valid: true,
  },
  { name: "integer field written 1e12", text: phaseDone("dur1e12", "1e12"), valid: true },
  { name: "integer field with a fraction", text: phaseDone("durfrac", "5.5"), valid: false },
  { name: "integer field -0", text: phaseDone("negzero", "-0"), valid: true },
  { name: "integer field past 2^53", text: phaseDone("durbig", "9007199254740993"), valid: false },
  { name: "schema_version 1.0", text: started("sv10", `,"schema_version":1.0`), valid: true },
  { name: "schema_version 2", text: started("sv2", `,"schema_version":2`), valid: false },
  // Past INTEGER: the index's event columns are computed for bad lines too, and a CAST of it
  // failed the whole rebuild (the verify fuzzer found it).
  {
    name: "schema_version 2^53-1",
    text: started("svbig", `,"schema_version":9007199254740991`),
    valid: false,
  },
  {
    name: "schema_version 2^31",
    text: started("sv31", `,"schema_version":2147483648`),
    valid: false,
  },
  { name: "schema_version null", text: started("svnull", `,"schema_version":null`), valid: true },
  { name: "UTF-8 BOM before the first line", text: BOM + started("bom1"), valid: true },
  {
    name: "UTF-8 BOM before a later line",
    text: BOM + started("bom2"),
    valid: false,
    second: true,
  },
  {
    name: "repeated top-level key (the first value counts)",
    text: started("dup", `,"host":"a","pid":1,"host":"b"`),
    valid: true,
  },
  {
    name: "repeated key inside an object field",
    text: phaseDone("dupnested", "1", `{"rows":1,"rows":2}`),
    valid: true,
  },
  {
    name: "null in optional fields",
    text: started("optnull", `,"host":null,"pid":null`),
    valid: true,
  },
  {
    name: "null in a required field",
    text: created("reqnull", `"run_type":null,"config":{},"data_fingerprint":"f"`),
    valid: false,
  },
  {
    name: "missing required field",
    text: created("reqmissing", `"config":{},"data_fingerprint":"f"`),
    valid: false,
  },
  {
    name: "line of exactly LINE_BYTES_MAX",
    text: createdOfSize("maxok", LINE_BYTES_MAX),
    valid: true,
  },
  {
    name: "line one byte over LINE_BYTES_MAX",
    text: createdOfSize("maxover", LINE_BYTES_MAX + 1),
    valid: false,
  },
  {
    name: "NaN and Infinity in an object field (Python)",
    text: phaseDone("nan", "1", `{"a":NaN,"b":Infinity,"c":-Infinity}`),
    valid: true,
  },
  { name: "NaN in an optional field", text: started("nanpid", `,"pid":NaN`), valid: true },
  { name: "NaN in a required integer field", text: phaseDone("nandur", "NaN"), valid: false },
  {
    name: "lower-case nan and inf",
    text: phaseDone("lcnan", "1", `{"a":nan,"b":-inf}`),
    valid: true,
  },
  { name: "trailing comma", text: phaseDone("comma", "1", `{"a":[1,2,],}`), valid: true },
  // A comma after nothing trails nothing (an audit: the writer wrote `[,]` as `[]` and verify
  // passed it, where the indexer refused the line).
  { name: "a comma in an empty array", text: phaseDone("ecomma", "1", `{"a":[,]}`), valid: false },
  { name: "a comma in an empty object", text: phaseDone("ocomma", "1", `{"a":{,}}`), valid: false },
  { name: "two commas", text: phaseDone("ccomma", "1", `{"a":[1,,]}`), valid: false },
  { name: "a comma after a key's colon", text: phaseDone("kcomma", "1", `{"a":,}`), valid: false },
  // A key repeated inside a field checked inside (an audit: verify kept the last value where
  // the index checks an error's first message and every value of a string map).
  {
    name: "an error's first message a number",
    text: failed("rm1", `{"message":2,"message":"oom"}`),
    valid: false,
  },
  {
    name: "an error's first message a string",
    text: failed("rm2", `{"message":"oom","message":2}`),
    valid: true,
  },
  {
    name: "a tag repeated, first not a string",
    text: tagged("rt1", `{"k":2,"k":"a"}`),
    valid: false,
  },
  {
    name: "a tag repeated, last not a string",
    text: tagged("rt2", `{"k":"a","k":2}`),
    valid: false,
  },
  { name: "a tag repeated, both strings", text: tagged("rt3", `{"k":"a","k":"b"}`), valid: true },
  {
    name: "an artifact path repeated, last not a string",
    text: completed("ra1", `{"k":"a","k":2}`),
    valid: false,
  },
  {
    name: `nesting of ${JSON_DEPTH_MAX} levels`,
    text: phaseDone("deepok", "1", `{"a":${nested(JSON_DEPTH_MAX - 2)}}`),
    valid: true,
  },
  {
    name: `nesting of ${JSON_DEPTH_MAX + 1} levels`,
    text: phaseDone("deepbad", "1", `{"a":${nested(JSON_DEPTH_MAX - 1)}}`),
    valid: false,
  },
  // The indexer peels a line of many brackets 8 levels at a time: siblings of every height,
  // objects beside arrays and brackets in strings must not change its count.
  {
    name: `nesting of ${JSON_DEPTH_MAX} levels among many brackets`,
    text: phaseDone("deepwide", "1", wide(JSON_DEPTH_MAX - 2)),
    valid: true,
  },
  {
    name: `nesting of ${JSON_DEPTH_MAX + 1} levels among many brackets`,
    text: phaseDone("deepwide65", "1", wide(JSON_DEPTH_MAX - 1)),
    valid: false,
    reason: `nested ${JSON_DEPTH_MAX + 1} levels deep (at most ${JSON_DEPTH_MAX})`,
  },
  {
    name: "nesting of 100 levels among many brackets",
    text: phaseDone("deepwide100", "1", wide(98)),
    valid: false,
    reason: `nested 100 levels deep (at most ${JSON_DEPTH_MAX})`,
  },
  {
    name: "brackets inside strings do not nest",
    text: phaseDone("deepstr", "1", `{"a":"${"[".repeat(200)}"}`),
    valid: true,
  },
  { name: "CRLF line ending", text: started("crlf") + "\r", valid: true },
  {
    name: "event_id of 256 characters past U+FFFF (lengths count code points)",
    text: started("astral-ok").replace('"e-astral-ok"', JSON.stringify("🚀".repeat(256))),
    valid: true,
  },
  {
    name: "event_id of 257 characters past U+FFFF",
    text: started("astral-long").replace('"e-astral-long"', JSON.stringify("🚀".repeat(257))),
    valid: false,
  },
  { name: "not an object", text: "[1,2]", valid: false },
  { name: "blank line", text: "   ", valid: false },
  { name: "empty line", text: "", valid: false },
  { name: "not JSON", text: started("junk") + " x", valid: false },
];

function partName(i: number): string {
  return `part-case-${String(i).padStart(3, "0")}.jsonl`;
}

/** The (file, line) of each case once the log is written. */
function position(i: number): { file: string; line: number } {
  return { file: `${DAY}/${partName(i)}`, line: CASES[i].second ? 2 : 1 };
}

async function writeCases(root: string): Promise<void> {
  const dir = join(root, "events", DAY);
  await Deno.mkdir(dir, { recursive: true });
  for (const [i, c] of CASES.entries()) {
    const lines = c.second ? [started(`first-${i}`), c.text] : [c.text];
    await Deno.writeTextFile(join(dir, partName(i)), lines.join("\n") + "\n");
  }
}

Deno.test("line rules: writer, verify and indexer agree on one table of lines", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-lines-" });
  try {
    await writeCases(root);

    await t.step("reader (verify) verdicts", async () => {
      for (const [i, c] of CASES.entries()) {
        const records: LogRecord[] = await Array.fromAsync(
          readPartFile(join(root, "events", position(i).file), { file: position(i).file }),
        );
        const record = records[position(i).line - 1];
        assert.equal(
          record.kind,
          c.valid ? "event" : "invalid",
          `${c.name}: ${JSON.stringify(record)}`,
        );
        if (c.reason !== undefined && record.kind === "invalid") {
          assert.equal(record.reason, c.reason, c.name);
        }
      }
      const dupAt = position(CASES.findIndex((c) => c.name.startsWith("repeated top-level")));
      const [dup] = await Array.fromAsync(
        readPartFile(join(root, "events", dupAt.file), { file: dupAt.file }),
      );
      assert.ok(dup.kind === "event" && dup.repeatedKey);
      assert.equal((dup.event as Record<string, unknown>).host, "a");
      const report = await verifyLog(root);
      assert.equal(report.totals.invalid, CASES.filter((c) => !c.valid).length);
      assert.ok(
        report.warnings.some((w) =>
          /1 event with a repeated top-level key: the first value counts/.test(w)
        ),
      );
    });

    await t.step("indexer verdicts (events vs ingest_errors)", async () => {
      await rebuildIndex(root, { full: true });
      const db = join(root, "index", "runs.duckdb");
      const indexed = new Set(
        (await query(db, "SELECT file, line FROM events")).map((r) => `${r.file}:${r.line}`),
      );
      const errors = new Map(
        (await query(db, "SELECT file, line, reason FROM ingest_errors")).map((r) => [
          `${r.file}:${r.line}`,
          String(r.reason),
        ]),
      );
      const disagreements: string[] = [];
      for (const [i, c] of CASES.entries()) {
        const at = `${position(i).file}:${position(i).line}`;
        const wrongReason = c.reason !== undefined && errors.get(at) !== c.reason;
        if (indexed.has(at) !== c.valid || errors.has(at) === c.valid || wrongReason) {
          disagreements.push(
            `${c.name}: expected ${c.valid ? "indexed" : "an ingest error"}, ` +
              `got ${indexed.has(at) ? "indexed" : `error ${errors.get(at)}`}`,
          );
        }
      }
      assert.deepEqual(disagreements, []);
    });

    await t.step("indexed values follow the same reading", async () => {
      const db = join(root, "index", "runs.duckdb");
      const rows = await query(
        db,
        "SELECT event_id, timestamp_ms, duration_ms, schema_version, host, pid FROM events " +
          "WHERE event_id IN ('e-tsdot', 'e-tsexp', 'e-dur1e12', 'e-sv10', 'e-optnull', " +
          "'e-nanpid', 'e-negzero', 'e-dup') ORDER BY event_id",
      );
      const byId = Object.fromEntries(rows.map((r) => [r.event_id, r]));
      assert.equal(byId["e-tsdot"].timestamp_ms, T0);
      assert.equal(byId["e-tsexp"].timestamp_ms, 1768867200000);
      assert.equal(byId["e-dur1e12"].duration_ms, 1e12);
      assert.equal(byId["e-negzero"].duration_ms, 0);
      assert.equal(byId["e-sv10"].schema_version, 1);
      assert.equal(byId["e-optnull"].host, null);
      assert.equal(byId["e-nanpid"].pid, null);
      assert.equal(byId["e-dup"].host, "a", "a repeated key: the first value counts");
    });

    await t.step("the writer refuses what would be invalid, naming the field", () => {
      const refuse = (input: Record<string, unknown>, pattern: RegExp) => {
        assert.throws(() => encodeEventLine(completeEvent(input)), (err: unknown) => {
          assert.ok(err instanceof ValidationError || err instanceof EventTooLargeError);
          assert.match((err as Error).message, pattern);
          return true;
        });
      };
      refuse(
        { event_type: "run.started", run_id: "r", host: "🚀x".slice(0, 1) },
        /run\.started: host must be well-formed Unicode/,
      );
      refuse(
        { event_type: "run.started", run_id: "r", ["k\ud83d"]: 1 },
        /k\\ud83d must be a key in well-formed Unicode/,
      );
      let deep: unknown = [];
      for (let i = 0; i < JSON_DEPTH_MAX - 1; i++) deep = [deep];
      refuse(
        {
          event_type: "run.created",
          run_id: "r",
          run_type: "x",
          data_fingerprint: "f",
          config: { a: deep },
        },
        new RegExp(
          `config\\.a\\.0\\.0\\.\\.\\. \\(${JSON_DEPTH_MAX} levels\\) must be nested at most ${JSON_DEPTH_MAX}`,
        ),
      );
      let veryDeep: unknown = 1;
      for (let i = 0; i < 10_000; i++) veryDeep = { a: veryDeep };
      refuse(
        {
          event_type: "run.created",
          run_id: "r",
          run_type: "x",
          data_fingerprint: "f",
          config: veryDeep,
        },
        /config\.a\.a\.a\.\.\. .* must be nested at most/,
      );
      refuse(
        {
          event_type: "run.created",
          run_id: "r",
          run_type: null,
          config: {},
          data_fingerprint: "f",
        },
        /run_type must be a non-empty string, got null/,
      );
      refuse(
        { event_type: "run.started", run_id: "r", schema_version: 2 },
        /schema_version must be one of 1, got 2/,
      );
      refuse(
        writerEventOfSize("r-big", LINE_BYTES_MAX + 1),
        /too large: 1048577 bytes, limit 1048576/,
      );
    });

    await t.step("the emitter reports the refusal instead of writing", async () => {
      const logs: string[] = [];
      const emitter = new EventEmitter({ root, log: (m) => logs.push(m) });
      const name = "🚀x".slice(0, 1); // a name cut mid-emoji
      const id = await emitter.runCreated("cut", {
        run_type: name,
        config: {},
        data_fingerprint: "f",
      });
      await emitter.close();
      assert.equal(id, null);
      assert.match(emitter.stats().lastError!, /run_type must be well-formed Unicode/);
    });

    await t.step("what the writer accepts, verify and the indexer accept", async () => {
      const inputs = [
        { event_type: "run.started", run_id: "w-optnull", host: null, pid: null },
        { event_type: "run.started", run_id: "w-sv", schema_version: 1.0 },
        { event_type: "run.started", run_id: "w-pair", host: "🚀" },
        {
          event_type: "phase.completed",
          run_id: "w-nan",
          phase_name: "p",
          duration_ms: 1e3,
          output_summary: { a: NaN, b: Infinity },
        },
        {
          event_type: "run.created",
          run_id: "w-max",
          run_type: "x",
          data_fingerprint: "f",
          config: {
            a: (() => {
              let v: unknown = [];
              for (let i = 0; i < JSON_DEPTH_MAX - 3; i++) v = [v];
              return v;
            })(),
          },
        },
        writerEventOfSize("r-wmax", LINE_BYTES_MAX),
      ].map((e) => ({ ...e, timestamp_ms: T0 + 1, run_id: String(e.run_id) }));
      const writer = await openWriter(root);
      try {
        await writer.appendBatch(inputs as never);
      } finally {
        await writer.close();
      }
      const report = await verifyLog(root);
      assert.equal(report.totals.invalid, CASES.filter((c) => !c.valid).length, "no new invalid");
      const rebuilt = await rebuildIndex(root, { full: true });
      const db = join(root, "index", "runs.duckdb");
      const runs = (await query(
        db,
        "SELECT DISTINCT run_id FROM events WHERE timestamp_ms = " +
          `${T0 + 1} ORDER BY run_id`,
      )).map((r) => r.run_id);
      assert.deepEqual(runs, ["r-wmax", "w-max", "w-nan", "w-optnull", "w-pair", "w-sv"]);
      assert.equal(rebuilt.errors, CASES.filter((c) => !c.valid).length);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
