/**
 * Cut: a part file (with 2-, 3- and 4-byte UTF-8 in it) truncated at every
 * byte offset. Each cut copy must index exactly its complete lines and report
 * the rest as a torn tail; the rebuild never fails. All copies sit in one
 * day directory (same line lengths, ids unique per copy) so one real rebuild
 * checks every offset; then the copies are completed and an incremental
 * rebuild must equal a full one.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { readPartFile } from "../../ledger/reader.ts";
import { verifyLog } from "../../ledger/verify.ts";
import { dumpTables } from "../indexer/_fixtures.ts";
import { queryIndex, withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 20);
const DAY = "day=2026-01-20";
const NEWLINE = 0x0a;

/** The lines of copy `copy`: every event type with a field of multi-byte text. */
function fileBytes(copy: number): Uint8Array {
  const id = (k: number) => `cut-${String(copy).padStart(4, "0")}-${k}`;
  const base = (k: number, type: string) => ({
    event_type: type,
    event_id: id(k),
    timestamp_ms: T0 + k,
    run_id: `cut-run-${String(copy).padStart(4, "0")}`,
    schema_version: 1,
  });
  const events = [
    {
      ...base(1, "run.created"),
      run_type: "path-only",
      config: { note: "é ü 日本 😀" },
      data_fingerprint: "fp",
    },
    { ...base(2, "phase.started"), phase_name: "загрузка", phase_order: 0 },
    {
      ...base(3, "phase.completed"),
      phase_name: "загрузка",
      duration_ms: 5,
      output_summary: { ß: "→∞" },
    },
    { ...base(4, "run.completed"), summary: { emoji: "🚀" }, artifact_paths: {} },
  ];
  return new TextEncoder().encode(events.map((e) => JSON.stringify(e) + "\n").join(""));
}

/** For a cut at `offset`: complete lines, and the byte length they take. */
function expected(full: Uint8Array, offset: number) {
  let lines = 0;
  let bytes = 0;
  for (let i = 0; i < offset; i++) {
    if (full[i] === NEWLINE) {
      lines += 1;
      bytes = i + 1;
    }
  }
  return { lines, bytes, torn: bytes < offset };
}

function partName(offset: number): string {
  return `${DAY}/part-cut-${String(offset).padStart(5, "0")}.jsonl`;
}

Deno.test("cut: a part file truncated at every byte offset indexes exactly its complete lines", async (t) => {
  await withTempDir(async (root) => {
    const size = fileBytes(0).length;
    assert.ok(size > 500 && size < 2000, `fixture size ${size}`);
    await Deno.mkdir(join(root, "events", DAY), { recursive: true });
    for (let offset = 0; offset <= size; offset++) {
      const bytes = fileBytes(offset);
      assert.equal(bytes.length, size, "every copy has the same layout");
      await Deno.writeFile(join(root, "events", partName(offset)), bytes.subarray(0, offset));
    }
    const full = fileBytes(0);
    const cuts = size + 1;
    console.log(`cut: ${cuts} offsets of a ${size}-byte part file`);

    await t.step("the reader sees the complete lines and one torn tail", async () => {
      for (let offset = 0; offset <= size; offset++) {
        const want = expected(full, offset);
        const kinds: string[] = [];
        for await (const r of readPartFile(join(root, "events", partName(offset)))) {
          kinds.push(r.kind);
        }
        const wantKinds = [
          ...Array(want.lines).fill("event"),
          ...(want.torn ? ["torn"] : []),
        ];
        assert.deepEqual(kinds, wantKinds, `offset ${offset}`);
      }
    });

    const db = join(root, "index", "runs.duckdb");
    await t.step("one full rebuild: per file, the complete lines and the torn tail", async () => {
      const report = await rebuildIndex(root, { full: true });
      assert.equal(report.filesScanned, cuts);
      const events = new Map(
        (await queryIndex(db, "SELECT file, count(*) AS n FROM events GROUP BY file"))
          .map((r) => [String(r.file), Number(r.n)]),
      );
      const errors = new Map<string, Record<string, unknown>[]>();
      for (const r of await queryIndex(db, "SELECT file, line, reason FROM ingest_errors")) {
        errors.set(String(r.file), [...(errors.get(String(r.file)) ?? []), r]);
      }
      const files = new Map(
        (await queryIndex(db, "SELECT file, lines_indexed, bytes_indexed FROM ingest_files"))
          .map((r) => [String(r.file), r]),
      );
      let torn = 0;
      for (let offset = 0; offset <= size; offset++) {
        const file = partName(offset);
        const want = expected(full, offset);
        assert.equal(events.get(file) ?? 0, want.lines, `${file}: events`);
        const errs = errors.get(file) ?? [];
        if (want.torn) {
          torn += 1;
          assert.equal(errs.length, 1, `${file}: one error row`);
          assert.equal(errs[0].line, want.lines + 1, `${file}: the torn line's number`);
          assert.match(String(errs[0].reason), /torn/, `${file}: reason`);
        } else {
          assert.deepEqual(errs, [], `${file}: no error`);
        }
        if (offset > 0) {
          assert.equal(files.get(file)?.lines_indexed, want.lines, `${file}: lines_indexed`);
          assert.equal(files.get(file)?.bytes_indexed, want.bytes, `${file}: bytes_indexed`);
        }
      }
      assert.equal(report.errors, torn);
      const verify = await verifyLog(root);
      assert.equal(verify.totals.torn, torn, "verify counts the same torn tails");
      assert.equal(verify.totals.invalid, 0);
    });

    await t.step("the writes complete: incremental rebuild equals a full one", async () => {
      for (let offset = 0; offset <= size; offset++) {
        const bytes = fileBytes(offset);
        const path = join(root, "events", partName(offset));
        const have = (await Deno.stat(path)).size;
        const file = await Deno.open(path, { append: true });
        try {
          await file.write(bytes.subarray(have)); // what the writer had not written yet
        } finally {
          file.close();
        }
      }
      const inc = await rebuildIndex(root);
      assert.equal(inc.mode, "incremental");
      assert.equal(inc.events, cuts * 4);
      assert.equal(inc.errors, 0, "torn tails that completed are no longer errors");
      const fullDb = join(root, "full.duckdb");
      await rebuildIndex(root, { full: true, dbPath: fullDb });
      assert.deepEqual(await dumpTables(db), await dumpTables(fullDb));
    });
  });
});
