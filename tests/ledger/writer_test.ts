import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import {
  BATCH_BYTES_MAX,
  GROUP_COMMIT_EVENTS_DEFAULT,
  openWriter,
  RELAXED_BUFFER_BYTES_MAX,
} from "../../ledger/writer.ts";
import { appendShared } from "../../ledger/shared_part.ts";
import { type DurableFsOps, REAL_FS, useDurableFs } from "../../ledger/durable_fs.ts";
import { completeEvent, encodeEventLine, type LedgerEvent } from "../../ledger/events.ts";
import { listParts, type LogRecord, readLog } from "../../ledger/reader.ts";
import { EventTooLargeError, ValidationError, WriteError } from "../../ledger/errors.ts";
import { LINE_BYTES_MAX } from "../../ledger/events.ts";
import {
  dayDir,
  eventsDir,
  PART_FILE_PATTERN,
  partFileName,
  PYTHON_PART_PATTERN,
  schemaPath,
  sharedPartFileName,
} from "../../ledger/paths.ts";
import { boundFile, hashTree, PYTHON_LINES, sampleInputs, withTempDir } from "./_helpers.ts";
import { eventually } from "../_helpers.ts";

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
      const written = async () =>
        (await collect(root)).some((r) =>
          r.kind === "event" && r.event.event_id === event.event_id
        );
      await eventually(written, "the timer wrote the event, no flush or close");
      await writer.close();
    });
    await t.step("a closed writer refuses appends", async () => {
      const writer = await openWriter(root);
      await writer.close();
      await assert.rejects(writer.append({ event_type: "run.started", run_id: "x" }), WriteError);
    });
  });
});

/** Bytes of the part files under `root`. */
async function bytesOnDisk(root: string): Promise<number> {
  let onDisk = 0;
  for (const part of await listParts(root)) onDisk += (await Deno.stat(part.path)).size;
  return onDisk;
}

/** The trial id of a `trial.recorded` event (undefined for other types). */
function trialIdOf(event: LedgerEvent): string | undefined {
  return event.event_type === "trial.recorded" ? event.trial_id : undefined;
}

/** A `trial.recorded` input of about 400 bytes. */
function paddedTrial(i: number) {
  return {
    event_type: "trial.recorded",
    run_id: "bp",
    trial_id: `t${i}`,
    params: { pad: "x".repeat(300) },
    metrics: {},
  };
}

Deno.test("writer: a relaxed loop that awaits what appendNow returns writes while it runs", async () => {
  await withTempDir(async (root) => {
    // 60,000 lines of about 400 bytes (24 MB, three times RELAXED_BUFFER_BYTES_MAX), appended by
    // a loop that awaits nothing but what appendNow returns. Each group commit gives the event
    // loop a turn, so groups reach the disk while the loop goes on, long before the byte limit
    // (before that turn, such a loop ran no I/O until it stopped at the limit). The commit timer
    // cannot come due here, so only counts and bytes give promises (a slow machine's loop past
    // 10 ms would get one more each time: relaxed_window_test covers those).
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 60_000 });
    const count = 60_000;
    let appendedBytes = 0;
    let appendedAtFirstBytesOnDisk: number | undefined;
    let turns = 0;
    const ids: string[] = [];
    const startedMs = performance.now();
    for (let i = 0; i < count; i++) {
      const appended = writer.appendNow(paddedTrial(i));
      const event = appended instanceof Promise ? await appended : appended;
      appendedBytes += encodeEventLine(event).length;
      ids.push(event.event_id);
      if (appended instanceof Promise) {
        turns += 1;
        const onDisk = await bytesOnDisk(root);
        if (onDisk > 0) appendedAtFirstBytesOnDisk ??= appendedBytes;
        const backlog = appendedBytes - onDisk; // at most this much is not on disk
        assert.ok(backlog < 2 * RELAXED_BUFFER_BYTES_MAX, `a backlog of ${backlog} bytes`);
      }
    }
    // One turn per group of GROUP_COMMIT_EVENTS_DEFAULT appends. A slow disk can add a wait at
    // the byte limit (at most one per RELAXED_BUFFER_BYTES_MAX appended: a wait ends with the
    // backlog on disk), which restarts the count: at most that many promises more or fewer.
    // The writer before the turns gave 0-3 promises here; one that turned on every append past
    // a full group while a commit waited, 74.
    // And while commits are pending, a turn whenever the writer has seen none for 2 ms
    // (writer.ts TURN_GAP_MS_MAX), so that commits progress beside a caller that gives none: at
    // most one more per 2 ms of the loop, never one per append.
    const groups = Math.floor(count / GROUP_COMMIT_EVENTS_DEFAULT);
    const waitsMax = Math.ceil(appendedBytes / RELAXED_BUFFER_BYTES_MAX);
    const gapTurnsMax = Math.ceil((performance.now() - startedMs) / 2);
    assert.ok(
      turns >= groups - waitsMax && turns <= groups + waitsMax + gapTurnsMax,
      `${turns} promises for ${groups} groups (at most ${gapTurnsMax} more for the gaps)`,
    );
    // Before the byte limit, where the writer without the turns wrote its first bytes. (Half
    // of it held on an idle machine; a loaded one, its first fdatasync slow, saw 7.4 of 8 MB
    // appended first: the promise is that I/O runs during the loop, not how soon.)
    assert.ok(
      appendedAtFirstBytesOnDisk !== undefined &&
        appendedAtFirstBytesOnDisk < RELAXED_BUFFER_BYTES_MAX,
      `first bytes on disk after ${appendedAtFirstBytesOnDisk} bytes appended`,
    );
    await writer.close();
    assert.equal(await bytesOnDisk(root), appendedBytes);
    const records = await collect(root);
    assert.deepEqual(records.map((r) => r.kind === "event" && r.event.event_id), ids);
  });
});

Deno.test("writer: past the byte limit a relaxed append waits until its group is on disk", async () => {
  await withTempDir(async (root) => {
    // A loop that never awaits runs no I/O at all: the buffer grows to the byte limit, and from
    // there every append returns a promise that resolves once the lines before it are on disk.
    // (A commit timer that cannot come due: the bytes alone decide.)
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 60_000 });
    const trial = (i: number) => ({
      ...paddedTrial(i),
      trial_id: `t${String(i).padStart(6, "0")}`,
    });
    const first = writer.appendNow(trial(0));
    assert.ok(!(first instanceof Promise));
    const lineBytes = encodeEventLine(first).length; // every line has this length
    let lines = 1;
    let appendsPastLimit = 0;
    let promisesPastLimit = 0;
    let waiting: { promise: Promise<LedgerEvent>; bytesBefore: number; line: number } | undefined;
    while (lines * lineBytes < 2 * RELAXED_BUFFER_BYTES_MAX) {
      const bytesBefore = lines * lineBytes;
      const appended = writer.appendNow(trial(lines));
      lines += 1;
      if (bytesBefore + lineBytes < RELAXED_BUFFER_BYTES_MAX) continue;
      appendsPastLimit += 1;
      if (!(appended instanceof Promise)) continue;
      promisesPastLimit += 1;
      waiting ??= { promise: appended, bytesBefore, line: lines };
    }
    assert.equal(promisesPastLimit, appendsPastLimit, "every append past the limit waits");
    assert.ok(waiting !== undefined && appendsPastLimit > 1000, `${appendsPastLimit}`);
    const parts = Deno.readDirSync(join(root, "events")).filter((e) => e.isDirectory).toArray();
    assert.equal(parts.length, 0, "a loop that never awaits has run no I/O");
    const event = await waiting.promise;
    assert.equal(trialIdOf(event), `t${String(waiting.line - 1).padStart(6, "0")}`);
    const onDisk = await bytesOnDisk(root);
    assert.ok(onDisk >= waiting.bytesBefore + lineBytes, `${onDisk} bytes on disk`);
    await writer.close();
    assert.equal(await bytesOnDisk(root), lines * lineBytes);
    const records = await collect(root);
    assert.deepEqual(
      records.map((r) => r.kind === "event" && trialIdOf(r.event)),
      Array.from({ length: lines }, (_, i) => `t${String(i).padStart(6, "0")}`),
    );
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

/** A file layer whose writes to part files fail like a full disk (ENOSPC). */
function fullDiskFs(): DurableFsOps {
  return {
    ...REAL_FS,
    async open(path, options) {
      const file = await REAL_FS.open(path, options);
      if (!path.endsWith(".jsonl")) return file;
      return {
        ...boundFile(file),
        write: () => Promise.reject(new Error("No space left on device (os error 28)")),
      };
    },
  };
}

Deno.test("writer: a part that a failed first write left empty is removed", async (t) => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    const restore = useDurableFs(fullDiskFs());
    try {
      await t.step("in-process writer: each failed append leaves no part behind", async () => {
        for (let i = 0; i < 3; i++) {
          await assert.rejects(
            writer.append({ event_type: "run.started", run_id: `r${i}` }),
            (err: unknown) => err instanceof WriteError && /No space left/.test(err.message),
          );
        }
        assert.deepEqual(await listParts(root), [], "no empty part files");
      });
    } finally {
      restore();
      await writer.close();
    }
    await t.step("the next append (disk freed) writes normally", async () => {
      const again = await openWriter(root);
      await again.append({ event_type: "run.started", run_id: "after" });
      await again.close();
      assert.equal((await listParts(root)).length, 1);
    });
  });
});

const HAS_MKFIFO = await new Deno.Command("mkfifo", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);
if (!HAS_MKFIFO) console.log("writer FIFO test ignored: mkfifo is not installed");

Deno.test({
  name: "writer: a FIFO where a file should be is refused with a message, never waited on",
  ignore: !HAS_MKFIFO,
}, async (t) => {
  await withTempDir(async (root) => {
    const mkfifo = async (path: string) => {
      await Deno.mkdir(dirname(path), { recursive: true });
      const out = await new Deno.Command("mkfifo", { args: [path] }).output();
      assert.ok(out.success);
    };
    await t.step("_schema.json: openWriter and appendShared name it", async () => {
      await mkfifo(schemaPath(root));
      await assert.rejects(
        openWriter(root),
        (err: unknown) => err instanceof WriteError && /_schema\.json.*FIFO/.test(err.message),
      );
      const event = completeEvent({ event_type: "run.started", run_id: "f" });
      await assert.rejects(
        appendShared(root, [event], [encodeEventLine(event)]),
        (err: unknown) => err instanceof WriteError && /_schema\.json.*FIFO/.test(err.message),
      );
      await Deno.remove(schemaPath(root));
    });
    await t.step("a shared part path: refused, the log unchanged", async () => {
      const event = completeEvent({
        event_type: "run.started",
        run_id: "f",
        timestamp_ms: MIDNIGHT_MS,
      });
      const path = join(dayDir(root, "2026-01-23"), sharedPartFileName(1));
      await mkfifo(path);
      await assert.rejects(
        appendShared(root, [event], [encodeEventLine(event)]),
        (err: unknown) =>
          err instanceof WriteError && err.path === path && /FIFO/.test(err.message),
      );
    });
    await t.step("an in-process part path: skipped for the next free name", async () => {
      const path = join(dayDir(root, "2026-01-23"), partFileName("w", 1));
      await mkfifo(path);
      const writer = await openWriter(root, { writerId: "w" });
      await writer.append({ event_type: "run.started", run_id: "w", timestamp_ms: MIDNIGHT_MS });
      await writer.close();
      const files = (await listParts(root)).map((p) => p.file);
      assert.ok(files.includes(`day=2026-01-23/${partFileName("w", 2)}`), files.join(", "));
    });
  });
});

Deno.test("writer: limits on one appendBatch and names that never match part-*.jsonl", async (t) => {
  await t.step("a batch past BATCH_BYTES_MAX is refused before a byte is written", async () => {
    await withTempDir(async (root) => {
      const writer = await openWriter(root);
      const blob = "x".repeat(1024 * 1024 - 200);
      const count = Math.ceil(BATCH_BYTES_MAX / (1024 * 1024)) + 1;
      const inputs = Array.from({ length: count }, () => ({
        event_type: "run.started" as const,
        run_id: "big",
        blob,
      }));
      await assert.rejects(writer.appendBatch(inputs), RangeError);
      await writer.close();
      assert.deepEqual(await listParts(root), []);
    });
  });
  await t.step("ledger's part names never match the Python writer's part-*.jsonl", () => {
    for (
      const name of [partFileName("abc", 1), partFileName("part", 999999), sharedPartFileName(3)]
    ) {
      assert.doesNotMatch(name, PYTHON_PART_PATTERN);
      assert.match(name, PART_FILE_PATTERN, `${name} is read as part of the log`);
    }
  });
});

Deno.test("shared part: batches spanning days, rotation past partBytesMax, torn tail repaired", async () => {
  await withTempDir(async (root) => {
    const encode = (inputs: Record<string, unknown>[]) => {
      const events = inputs.map((input) => completeEvent(input));
      return [events, events.map((e) => encodeEventLine(e))] as const;
    };
    const day1 = { event_type: "run.started", run_id: "a", timestamp_ms: MIDNIGHT_MS };
    const day0 = { ...day1, timestamp_ms: MIDNIGHT_MS - 1 };
    const [events, lines] = encode([day1, day0, day1]);
    const report = await appendShared(root, events, lines);
    assert.deepEqual(report.paths.map((p) => p.split("/").slice(-2).join("/")), [
      "day=2026-01-22/emit-000001.jsonl",
      "day=2026-01-23/emit-000001.jsonl",
    ]);
    const path = join(dayDir(root, "2026-01-23"), sharedPartFileName(1));
    await Deno.writeTextFile(path, '{"event_id":"torn', { append: true }); // a writer killed mid-write
    const [more, moreLines] = encode([day1]);
    const repaired = await appendShared(root, more, moreLines);
    assert.equal(repaired.tornBytesRepaired, '{"event_id":"torn'.length);
    const [big, bigLines] = encode(Array.from({ length: 12 }, () => day1));
    const rotated = await appendShared(root, big, bigLines, { partBytesMax: 600 });
    assert.match(rotated.paths[0], /emit-000002\.jsonl$/, "a full part is left for the next");
    const records = await collect(root);
    assert.ok(records.every((r) => r.kind === "event"), "no torn or invalid line anywhere");
    assert.equal(records.length, 3 + 1 + 12);
  });
});
