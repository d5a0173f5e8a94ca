/**
 * Corrupt: what disks, crashes and people leave in a log directory. Each is
 * reported in `ingest_errors` (bad lines) or ignored as documented (entries
 * that are not part files, empty files and day directories, a deleted
 * `_schema.json`), never a crash of the rebuild or of `ledger verify`; and
 * the reader (verify) and the indexer agree line by line on what is bad.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { verifyLog } from "../../ledger/verify.ts";
import { openWriter } from "../../ledger/writer.ts";
import { schemaPath } from "../../ledger/paths.ts";
import { dumpTables } from "../indexer/_fixtures.ts";
import { queryIndex, runLedger, withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 20);
const DAY = "day=2026-01-20";
const encoder = new TextEncoder();

let seq = 0;
function line(runId: string, extra: Record<string, unknown> = {}): string {
  seq += 1;
  return JSON.stringify({
    event_type: "phase.started",
    event_id: `c-${String(seq).padStart(5, "0")}`,
    timestamp_ms: T0 + seq,
    run_id: runId,
    phase_name: "p",
    phase_order: seq,
    note: "ünïcödé",
    ...extra,
  }) + "\n";
}

function lines(runId: string, n: number): string {
  return Array.from({ length: n }, () => line(runId)).join("");
}

/** Flip byte `at` of line `lineNo` (1-based) of `text` to `value`. */
function flip(text: string | Uint8Array, lineNo: number, at: number, value: number): Uint8Array {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  let start = 0;
  for (let l = 1; l < lineNo; l++) start = bytes.indexOf(0x0a, start) + 1;
  bytes[start + at] = value;
  return bytes;
}

async function put(root: string, rel: string, data: string | Uint8Array): Promise<void> {
  const path = join(root, "events", rel);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeFile(path, typeof data === "string" ? encoder.encode(data) : data);
}

Deno.test("corrupt: flipped bytes, NUL tails, empty and stray entries, no _schema.json", async (t) => {
  await withTempDir(async (root) => {
    // Built with the writer so _schema.json exists, then damaged.
    const writer = await openWriter(root);
    await writer.append({ event_type: "run.started", run_id: "w" });
    await writer.close();
    const healthy = lines("ok", 5);
    await put(root, `${DAY}/part-0-healthy.jsonl`, healthy);
    // Bytes flipped inside lines 2 (structure), 3 (0xFF: not UTF-8), 4 (inside the id string).
    const flipped = flip(flip(flip(lines("flip", 5), 2, 0, 0x5b), 3, 30, 0xff), 4, 1, 0x00);
    await put(root, `${DAY}/part-1-flipped.jsonl`, flipped);
    // Power loss: the size grew but the data never landed (zeros, no newline).
    const nulTail = new Uint8Array([...encoder.encode(lines("nul", 3)), ...new Uint8Array(4096)]);
    await put(root, `${DAY}/part-2-nultail.jsonl`, nulTail);
    // Zeros in the middle (a lost block), whole lines after it.
    const nulMiddle = new Uint8Array([
      ...encoder.encode(lines("mid", 2)),
      ...new Uint8Array(512),
      0x0a,
      ...encoder.encode(lines("mid", 2)),
    ]);
    await put(root, `${DAY}/part-3-nulmiddle.jsonl`, nulMiddle);
    await put(root, `${DAY}/part-4-empty.jsonl`, "");
    await put(
      root,
      `${DAY}/part-5-shapes.jsonl`,
      '[1,2]\n"text"\n{"event_type":"no.such"}\n{"event_type":"run.started"}\n' +
        "\n" + line("shape", { phase_order: -1 }) + line("shape", { phase_order: "NaN" }) +
        line("shape").replace("\n", "\r\n"),
    );
    await Deno.mkdir(join(root, "events", "day=2026-01-21")); // zero-length day directory
    await Deno.mkdir(join(root, "events", "day=garbage"));
    await put(root, "day=garbage/part-x.jsonl", lines("garbage", 1));
    await put(root, "README.txt", "not a log");
    await put(root, `${DAY}/notes.txt`, lines("stray", 1));
    await put(root, `${DAY}/part-6.json`, lines("stray", 1));
    await put(root, `${DAY}/part-7.jsonl.bak`, lines("stray", 1));
    await Deno.mkdir(join(root, "events", DAY, "part-8-dir.jsonl"));
    await Deno.symlink(
      join(root, "events", `${DAY}/part-0-healthy.jsonl`),
      join(root, "events", `${DAY}/part-9-link.jsonl`),
    );
    await Deno.remove(schemaPath(root));

    const expectedBad = [
      `${DAY}/part-1-flipped.jsonl:2`,
      `${DAY}/part-1-flipped.jsonl:3`,
      `${DAY}/part-1-flipped.jsonl:4`,
      `${DAY}/part-2-nultail.jsonl:4`,
      `${DAY}/part-3-nulmiddle.jsonl:3`,
      ...[1, 2, 3, 4, 5, 6, 7].map((l) => `${DAY}/part-5-shapes.jsonl:${l}`),
    ];
    const db = join(root, "index", "runs.duckdb");

    await t.step("rebuild: bad lines in ingest_errors, the rest indexed", async () => {
      const report = await rebuildIndex(root, { full: true });
      const errors = await queryIndex(
        db,
        "SELECT file, line, reason FROM ingest_errors ORDER BY file, line",
      );
      assert.deepEqual(errors.map((e) => `${e.file}:${e.line}`), expectedBad);
      for (const e of errors) assert.ok(String(e.reason).length > 0);
      const perRun = new Map(
        (await queryIndex(db, "SELECT run_id, count(*) AS n FROM events GROUP BY run_id"))
          .map((r) => [String(r.run_id), Number(r.n)]),
      );
      assert.deepEqual(Object.fromEntries(perRun), {
        w: 1,
        ok: 5,
        flip: 2,
        nul: 3,
        mid: 4,
        shape: 1, // the valid line, which ends in \r\n
      });
      assert.equal(report.errors, expectedBad.length);
      const files = (await queryIndex(db, "SELECT file FROM ingest_files ORDER BY file"))
        .map((r) => String(r.file));
      assert.ok(!files.some((f) => /notes|\.json$|\.bak|dir|link|garbage/.test(f)), `${files}`);
    });

    await t.step("verify agrees with the index on every bad line", async () => {
      const report = await verifyLog(root);
      const bad = report.days.flatMap((d) => [...d.invalid, ...d.torn])
        .map((f) => `${f.file}:${f.line}`).sort();
      assert.deepEqual(bad, [...expectedBad].sort());
      assert.ok(report.warnings.some((w) => w.includes("_schema.json is missing")));
      assert.ok(report.warnings.some((w) => w.includes("day=2026-01-21 holds no part files")));
      const ignored = report.ignored.join("\n");
      for (const name of ["README.txt", "notes.txt", "part-6.json", ".bak", "dir", "link"]) {
        assert.ok(ignored.includes(name), `${name} is listed as ignored`);
      }
      const cli = await runLedger(["verify", "--root", root]);
      assert.equal(cli.code, 1, cli.stderr);
      assert.match(cli.stdout, /^NOT SOUND: /m);
    });

    await t.step("incremental rebuild over the same damage equals a full one", async () => {
      await put(root, `${DAY}/part-0-healthy.jsonl`, healthy + line("ok") + "\0\0\0");
      await rebuildIndex(root);
      const fullDb = join(root, "full.duckdb");
      await rebuildIndex(root, { full: true, dbPath: fullDb });
      assert.deepEqual(await dumpTables(db), await dumpTables(fullDb));
    });

    await t.step("a writer after the damage recreates _schema.json", async () => {
      const w = await openWriter(root);
      await w.append({ event_type: "run.started", run_id: "after" });
      await w.close();
      await Deno.stat(schemaPath(root));
    });
  });
});
