import assert from "node:assert/strict";
import { join } from "node:path";
import { openWriter } from "../../ledger/writer.ts";
import { listParts, type LogRecord, readLog } from "../../ledger/reader.ts";
import { EventTooLargeError, ValidationError, WriteError } from "../../ledger/errors.ts";
import { LINE_BYTES_MAX } from "../../ledger/events.ts";
import { dayDir, eventsDir } from "../../ledger/paths.ts";
import { hashTree, PYTHON_LINES, sampleInputs, withTempDir } from "./_helpers.ts";

async function collect(root: string, fromDay?: string): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const record of readLog(root, { fromDay })) out.push(record);
  return out;
}

const MIDNIGHT_MS = Date.UTC(2026, 0, 23); // 2026-01-23T00:00:00Z

Deno.test("writer: every event type round-trips through the log", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    const written = [];
    for (const input of sampleInputs("run-1")) written.push(await writer.append(input));
    await writer.close();
    const records = await collect(root);
    assert.deepEqual(records.map((r) => r.kind), written.map(() => "event"));
    assert.deepEqual(records.map((r) => r.kind === "event" && r.event), written);
    assert.deepEqual(records.map((r) => r.line), written.map((_, i) => i + 1));
  });
});

Deno.test("writer: Python-format part files read back next to new ones", async () => {
  await withTempDir(async (root) => {
    const dir = dayDir(root, "2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-000001.jsonl"), PYTHON_LINES.join("\n") + "\n");
    const writer = await openWriter(root);
    await writer.append({ ...sampleInputs("run-2")[1], timestamp_ms: MIDNIGHT_MS });
    await writer.close();
    const records = await collect(root);
    assert.deepEqual(records.map((r) => r.kind), ["event", "event", "event", "event"]);
    const ids = records.map((r) => r.kind === "event" ? r.event.event_id : "");
    assert.deepEqual(ids.slice(0, 3), [
      "1768867200000_a1b2c3d4",
      "1768867200001_0badf00d",
      "1768867200002_deadbeef",
    ]);
    assert.equal(records[0].file, "day=2026-01-20/part-000001.jsonl");
  });
});

Deno.test("writer: day partitions follow the UTC day of timestamp_ms", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    const base = { event_type: "run.started", run_id: "r" } as const;
    await writer.appendBatch([
      { ...base, timestamp_ms: MIDNIGHT_MS - 1 },
      { ...base, timestamp_ms: MIDNIGHT_MS },
      { ...base, timestamp_ms: MIDNIGHT_MS + 86_400_000 - 1 },
    ]);
    await writer.close();
    const parts = await listParts(root);
    assert.deepEqual(parts.map((p) => p.day), ["2026-01-22", "2026-01-23"]);
    const records = await collect(root);
    assert.deepEqual(
      records.map((r) => [r.file.slice(0, 14), r.kind === "event" && r.event.timestamp_ms]),
      [
        ["day=2026-01-22", MIDNIGHT_MS - 1],
        ["day=2026-01-23", MIDNIGHT_MS],
        ["day=2026-01-23", MIDNIGHT_MS + 86_400_000 - 1],
      ],
    );
    assert.equal((await collect(root, "2026-01-23")).length, 2);
  });
});

Deno.test("writer: rotates before a part would pass partBytesMax", async () => {
  await withTempDir(async (root) => {
    const partBytesMax = 1000;
    const writer = await openWriter(root, { partBytesMax });
    const inputs = Array.from({ length: 40 }, (_, i) => ({
      event_type: "phase.started" as const,
      run_id: "r",
      phase_name: "p",
      phase_order: i,
      timestamp_ms: MIDNIGHT_MS,
    }));
    for (const input of inputs.slice(0, 20)) await writer.append(input);
    await writer.appendBatch(inputs.slice(20)); // a batch is split at part boundaries too
    await writer.close();
    const parts = await listParts(root);
    assert.ok(parts.length >= 4, `expected several parts, got ${parts.length}`);
    for (const part of parts) {
      assert.ok(part.sizeBytes <= partBytesMax, `${part.file} has ${part.sizeBytes} bytes`);
      assert.match(part.file, new RegExp(`ledger-${writer.writerId}-\\d{6}\\.jsonl$`));
    }
    const orders = (await collect(root)).map((r) =>
      r.kind === "event" && (r.event as Record<string, unknown>).phase_order
    );
    assert.deepEqual(orders, inputs.map((i) => i.phase_order));
  });
});

Deno.test("writer: durable and relaxed modes", async (t) => {
  await withTempDir(async (root) => {
    await t.step("durable: each append is in the file when it resolves", async () => {
      const writer = await openWriter(root, { durability: "durable" });
      const event = await writer.append({ event_type: "run.started", run_id: "d" });
      const records = await collect(root);
      assert.ok(records.some((r) => r.kind === "event" && r.event.event_id === event.event_id));
      await writer.close();
    });
    await t.step("relaxed: buffered until the group commit, flush and close persist", async () => {
      const writer = await openWriter(root, {
        durability: "relaxed",
        groupCommitMs: 60_000,
        groupCommitEvents: 1_000_000,
      });
      const before = (await collect(root)).length;
      const events = [];
      for (let i = 0; i < 50; i++) {
        events.push(await writer.append({ event_type: "run.started", run_id: `r${i}` }));
      }
      assert.equal((await collect(root)).length, before, "nothing written before a commit");
      await writer.flush();
      assert.equal((await collect(root)).length, before + 50);
      const last = await writer.append({ event_type: "run.started", run_id: "last" });
      await writer.close();
      const ids = new Set((await collect(root)).map((r) => r.kind === "event" && r.event.event_id));
      for (const event of [...events, last]) assert.ok(ids.has(event.event_id));
    });
    await t.step("relaxed: the timer commits on its own", async () => {
      const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 5 });
      const event = await writer.append({ event_type: "run.started", run_id: "timer" });
      await new Promise((resolve) => setTimeout(resolve, 100));
      const ids = (await collect(root)).map((r) => r.kind === "event" && r.event.event_id);
      assert.ok(ids.includes(event.event_id));
      await writer.close();
    });
    await t.step("a closed writer refuses appends", async () => {
      const writer = await openWriter(root);
      await writer.close();
      await assert.rejects(writer.append({ event_type: "run.started", run_id: "x" }), WriteError);
    });
  });
});

Deno.test("writer: concurrent appends in one process never interleave", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    const big = "x".repeat(50_000);
    const events = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        i % 3 === 0
          ? writer.appendBatch([
            { event_type: "run.started", run_id: `b${i}` },
            { event_type: "run.started", run_id: `c${i}`, blob: big },
          ])
          : writer.append({ event_type: "run.started", run_id: `a${i}`, blob: big })),
    );
    await writer.close();
    const records = await collect(root);
    assert.ok(records.every((r) => r.kind === "event"));
    assert.equal(records.length, events.flat().length);
  });
});

Deno.test("writer: invalid or oversize input writes nothing", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    await writer.append({ event_type: "run.started", run_id: "ok" });
    const before = await hashTree(root);
    await assert.rejects(
      writer.appendBatch([
        { event_type: "run.started", run_id: "fine" },
        { event_type: "run.started", run_id: "../bad" },
      ]),
      (err: unknown) => err instanceof ValidationError && /^event 2 of 2: /.test(err.message),
    );
    await assert.rejects(
      writer.append({ event_type: "run.started", run_id: "big", blob: "x".repeat(LINE_BYTES_MAX) }),
      EventTooLargeError,
    );
    await writer.close();
    assert.equal(await hashTree(root), before);
  });
});

Deno.test("writer: never appends behind a torn line; reader reports it", async () => {
  await withTempDir(async (root) => {
    const first = await openWriter(root);
    await first.append({ event_type: "run.started", run_id: "a", timestamp_ms: MIDNIGHT_MS });
    await first.close();
    const [part] = await listParts(root);
    await Deno.writeTextFile(part.path, '{"event_type":"run.sta', { append: true }); // a crash
    const second = await openWriter(root);
    await second.append({ event_type: "run.started", run_id: "b", timestamp_ms: MIDNIGHT_MS });
    await second.close();
    const records = await collect(root);
    assert.deepEqual(
      records.map((r) => [r.file === part.file, r.kind]),
      [[true, "event"], [true, "torn"], [false, "event"]],
    );
    assert.equal(records[1].line, 2);
  });
});

Deno.test("writer: a failed open is a WriteError naming the path", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "file-not-dir");
    await Deno.writeTextFile(root, "");
    await assert.rejects(
      openWriter(root),
      (err: unknown) => err instanceof WriteError && err.path === eventsDir(root),
    );
  });
});
