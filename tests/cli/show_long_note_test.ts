/**
 * Audit (long lines): `ledger show` of a run with a note near the line limit
 * (1 MB) took 38 s, because each wrapped line copied the rest of the note.
 * It now takes well under a second; the test gives it `SHOW_MS_MAX`.
 *
 * @module
 */
import assert from "node:assert";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

/** Characters of the note: an event line of about 1 MB, under LINE_BYTES_MAX. */
const NOTE_CHARS = 1_000_000;
/** The bound on `show` (the old wrap needed about 38 s, the new one under 1). */
const SHOW_MS_MAX = 10_000;

Deno.test("show wraps a 1 MB note in linear time, every character kept", async () => {
  await withTempDir(async (root) => {
    const base = { run_id: "note-1", schema_version: 1 };
    const lines = [
      {
        event_type: "run.created",
        event_id: "e1",
        timestamp_ms: 1,
        ...base,
        run_type: "policy",
        data_fingerprint: "fp",
        config: {},
      },
      {
        event_type: "run.noted",
        event_id: "e2",
        timestamp_ms: 2,
        ...base,
        note: "n".repeat(NOTE_CHARS),
      },
    ].map((e) => JSON.stringify(e));
    const dir = join(root, "events", "day=1970-01-01");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-note-000001.jsonl"), lines.join("\n") + "\n");
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const shown = await runLedger(["show", "note-1", "--root", root], {
      signal: AbortSignal.timeout(SHOW_MS_MAX),
    });
    assert.equal(shown.code, 0, shown.stderr);
    const notes = shown.stdout.slice(shown.stdout.indexOf("notes (1)\n"));
    assert.equal(notes.match(/n/g)?.length, NOTE_CHARS + 1); // the note, and the n of "notes"
  });
});
