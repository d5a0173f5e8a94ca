/**
 * A shared CLI part's torn last line is reported as it was when the part
 * was listed under its lock, not as the file reads a moment later. Between
 * the listing and the read, the next writer cuts the torn tail and may
 * append a batch there that then dies (its lines never acknowledged); read
 * from the file, those lines fell inside the listed size and were indexed
 * as events (a review, with a callback injected after the listing; the
 * next rebuild took them out again). The test injects the same moment
 * through the rebuild's progress callback, which runs right after the
 * listing: it leaves the part as a writer that cut the tail, recorded its
 * batch and died mid-batch leaves it (cut tail, batch record, lines).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { sharedPartFileName } from "../../ledger/paths.ts";
import { ev, query, T0 } from "./_fixtures.ts";

const DAY = "2026-01-20";

Deno.test("rebuild: a shared part's torn tail is the one listed, not a dead batch written after", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-torn-window-" });
  try {
    const dir = join(root, "events", `day=${DAY}`);
    await Deno.mkdir(dir, { recursive: true });
    const part = join(dir, sharedPartFileName(1));
    const whole = [
      ev("run.created", "r1", T0, { run_type: "t", config: {}, data_fingerprint: "f" }),
      ev("run.started", "r1", T0 + 1),
    ].map((e) => JSON.stringify(e) + "\n").join("");
    // A writer killed mid-line: a torn tail longer than each line of the batch below.
    const torn = JSON.stringify(ev("run.noted", "r1", T0 + 2, { note: "x".repeat(600) }))
      .slice(0, 500);
    await Deno.writeTextFile(part, whole + torn);
    const wholeBytes = new TextEncoder().encode(whole).length;
    const batch = ["b1", "b2", "b3"].map((id) =>
      JSON.stringify({
        ...ev("run.noted", "r1", T0 + 3, { note: "never acknowledged" }),
        event_id: id,
      }) +
      "\n"
    ).join("");

    let injected = false;
    const report = await rebuildIndex(root, {
      onProgress: (message) => {
        if (injected || !message.startsWith("log: ")) return;
        injected = true;
        // The next writer: cuts the torn tail, records its batch, appends it, dies.
        Deno.truncateSync(part, wholeBytes);
        Deno.mkdirSync(join(root, "events", ".pending"), { recursive: true });
        Deno.writeTextFileSync(
          join(root, "events", ".pending", `${DAY}__${sharedPartFileName(1)}.size`),
          JSON.stringify({ size: wholeBytes, batch: "dead-batch" }),
        );
        Deno.writeTextFileSync(part, batch, { append: true });
      },
    });
    assert.ok(injected, "the listing was reported");
    const db = join(root, "index", "runs.duckdb");
    const ids = (await query(db, "SELECT event_id FROM events ORDER BY event_id"))
      .map((r) => String(r.event_id));
    assert.ok(!ids.some((id) => id.startsWith("b")), `unacknowledged lines indexed: ${ids}`);
    assert.equal(report.events, 2);
    const errors = await query(db, "SELECT file, line, reason FROM ingest_errors");
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.equal(errors[0].line, 3);
    assert.match(String(errors[0].reason), /torn|newline|truncated/i);

    // The next rebuild sees the part as the dead batch left it: its record cuts it back.
    const next = await rebuildIndex(root);
    assert.equal(next.events, 2);
    const after = await query(db, "SELECT count(*) AS n FROM events WHERE event_id LIKE 'b%'");
    assert.equal(Number(after[0].n), 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
