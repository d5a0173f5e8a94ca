/**
 * A valid log of long lines could not be indexed: DuckDB checks a vector of
 * 2048 lines at a time and holds several copies of each line's text while it
 * does, so 150 events of 900 KB (135 MB) ran a rebuild out of its default
 * 732 MiB (the writer audit). Lines longer than `LONG_LINE_BYTES` are now
 * checked apart, in slices of `LONG_LINES_SLICE_BYTES`; the verdicts and
 * line numbers are those of the one statement.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { LONG_LINE_BYTES } from "../../indexer/schema.ts";
import { ev, query, T0, writePart } from "./_fixtures.ts";

/** Events of about `BLOB_CHARS` each: at 128MB, 40 of them failed before. */
const LONG_EVENTS = 40;
const BLOB_CHARS = 900_000;

Deno.test("long lines are indexed within the smallest memory limit, each verdict in place", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-long-" });
  try {
    const lines: (Record<string, unknown> | string)[] = [];
    for (let i = 0; i < LONG_EVENTS; i++) {
      lines.push(ev("run.created", `long-${i}`, T0 + i, {
        run_type: "policy",
        data_fingerprint: "f",
        config: { blob: "x".repeat(BLOB_CHARS), i },
      }));
      lines.push(ev("run.started", `long-${i}`, T0 + i)); // short lines between them
    }
    // Long bad lines: not JSON, and an event missing a field; then a short bad one.
    lines.push(`{"event_type": "run.created", "blob": "${"y".repeat(BLOB_CHARS)}"`);
    lines.push(
      JSON.stringify(ev("run.created", "long-bad", T0, { config: { b: "z".repeat(BLOB_CHARS) } })),
    );
    lines.push("garbage");
    await writePart(root, "day=2026-01-20/part-a.jsonl", lines, {
      tail: `{"event_type": "run.noted", "note": "${"w".repeat(BLOB_CHARS)}`, // a long torn tail
    });
    equal(BLOB_CHARS > LONG_LINE_BYTES, true, "the long lines take the sliced path");
    const report = await rebuildIndex(root, { full: true, memoryLimit: "128MB" });
    equal(report.events, 2 * LONG_EVENTS);
    const db = join(root, "index", "runs.duckdb");
    const errors = await query(db, "SELECT line, reason FROM ingest_errors ORDER BY line");
    deepEqual(errors.map((e) => e.line), [1, 2, 3, 4].map((k) => 2 * LONG_EVENTS + k));
    equal(errors[0].reason, "not JSON");
    equal(String(errors[1].reason).startsWith("invalid field"), true, String(errors[1].reason));
    equal(errors[2].reason, "not JSON");
    equal(errors[3].reason, "torn tail: no newline at end of file");
    const events = await query(
      db,
      "SELECT line, run_id, strlen(config) AS config_bytes FROM events " +
        "WHERE event_type = 'run.created' ORDER BY line",
    );
    equal(events.length, LONG_EVENTS);
    deepEqual(events[7], { line: 15, run_id: "long-7", config_bytes: events[0].config_bytes });
    equal(Number(events[0].config_bytes) > BLOB_CHARS, true);
    const started = await query(
      db,
      "SELECT count(*) AS n FROM events WHERE event_type = 'run.started'",
    );
    equal(started[0].n, LONG_EVENTS);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
