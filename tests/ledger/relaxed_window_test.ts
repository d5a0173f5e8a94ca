/**
 * Relaxed mode commits about every `groupCommitMs` of appends, also in a
 * loop that keeps the event loop busy: CPU work between emits that await
 * only the emits, whose promises are settled. A probe: the 10 ms timer never
 * ran there, the log stayed empty for seconds (3,000 acknowledged events, 0
 * bytes) and a kill lost thousands of acknowledged events. An append that
 * finds the timer overdue starts the commit and gives the event loop a turn,
 * as each does until the commit is done.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { EventEmitter } from "../../ledger/emitter.ts";
import { listParts } from "../../ledger/parts.ts";
import {
  type DurableFile,
  type DurableFsOps,
  REAL_FS,
  useDurableFs,
} from "../../ledger/durable_fs.ts";
import { openWriter, RELAXED_BUFFER_BYTES_MAX } from "../../ledger/writer.ts";
import { BufferedEventsLostError } from "../../ledger/errors.ts";
import { encodeEventLine } from "../../ledger/events.ts";
import { denoScriptArgs, eventually, readCheckedLog, withTempDir } from "../_helpers.ts";
import { boundFile } from "./_helpers.ts";

/**
 * Events emitted 1 ms apart that may be acknowledged and not yet written: the timer's 10 ms, 5
 * ms more before the loop counts as starved, then a turn per append until the commits' steps
 * are done; slack for a loaded machine (nine runs lost 1-41). (A kill keeps what was written: the page cache.)
 */
const UNSYNCED_EVENTS_MAX = 60;

function busyMs(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // CPU work: no turn of the event loop
  }
}

/** The paths of the log's part files. */
async function partPaths(root: string): Promise<string[]> {
  return (await listParts(root)).map((p) => p.path);
}

/**
 * Lines in the log's part files, listed and read without awaiting anything
 * the emitter could use to catch up (no turn of the event loop).
 */
function linesOnDisk(root: string): number {
  let lines = 0;
  const events = join(root, "events");
  for (const day of Deno.readDirSync(events)) {
    if (!day.isDirectory || !day.name.startsWith("day=")) continue;
    for (const part of Deno.readDirSync(join(events, day.name))) {
      if (!part.name.endsWith(".jsonl")) continue;
      const text = Deno.readTextFileSync(join(events, day.name, part.name));
      lines += text.split("\n").filter((l) => l !== "").length;
    }
  }
  return lines;
}

Deno.test("relaxed: a busy loop's events reach the disk within the window", async () => {
  await withTempDir(async (root) => {
    const emitter = new EventEmitter({ root, durability: "relaxed" });
    try {
      assert.notEqual(
        await emitter.runCreated("busy", { run_type: "x", config: {}, data_fingerprint: "f" }),
        null,
      );
      const trials = 200;
      for (let i = 0; i < trials; i++) {
        busyMs(1);
        assert.notEqual(
          await emitter.trialRecorded("busy", { trial_id: `t${i}`, params: {}, metrics: {} }),
          null,
        );
      }
      const lines = linesOnDisk(root);
      assert.ok(
        lines >= 1 + trials - UNSYNCED_EVENTS_MAX,
        `${lines} of ${1 + trials} acknowledged events on disk`,
      );
    } finally {
      await emitter.close();
    }
  });
});

// A CI run: the test above found 6 of 201 events on disk. The first group's fdatasync, on a disk
// busy with the suite, took longer than the whole loop, and every later group's write waited
// for it (one handle runs one call at a time; the write chain waited for the sync): a kill would
// have lost them all. A group's write no longer waits for an earlier group's sync.
Deno.test("relaxed: a slow fdatasync holds back no later group's write", async () => {
  await withTempDir(async (root) => {
    let syncs = 0;
    const { gate, openGate, restore } = gatedParts((file) => ({
      syncData: () => (syncs++ === 0 ? Promise.resolve() : gate).then(() => file.syncData()),
    }));
    const emitter = new EventEmitter({ root, durability: "relaxed", log: () => {} });
    const trials = 200;
    try {
      assert.notEqual(
        await emitter.runCreated("slow", { run_type: "x", config: {}, data_fingerprint: "f" }),
        null,
      );
      await emitter.flush(); // the part exists: what follows is the window alone
      for (let i = 0; i < trials; i++) {
        busyMs(1);
        assert.notEqual(
          await emitter.trialRecorded("slow", { trial_id: `t${i}`, params: {}, metrics: {} }),
          null,
        );
      }
      assert.equal(syncs, 2, "one sync waits at the gate; the later groups' syncs wait behind it");
      const lines = linesOnDisk(root);
      assert.ok(
        lines >= 1 + trials - UNSYNCED_EVENTS_MAX,
        `${lines} of ${1 + trials} acknowledged events written while a sync waited`,
      );
    } finally {
      openGate();
      await emitter.close();
      restore();
    }
    assert.equal((await readCheckedLog(root)).events, 1 + trials);
  });
});

// A CI run: a test found a relaxed writer's first 8 MiB acknowledged with nothing written. A new
// part's creation fsynced the day directory's parent and the part's directory before its first
// group's write; on a disk busy with the suite those fsyncs outlasted the window. The entries are
// now synced with the part's first fdatasync (the power-loss suite checks they are).
Deno.test("relaxed: a new part's first group is written before its directory fsyncs", async () => {
  await withTempDir(async (root) => {
    let dirSyncs = 0;
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 5 });
    const { gate, openGate, restore } = gatedParts(() => ({}), {
      syncDir: async (path) => {
        dirSyncs++;
        await gate;
        await REAL_FS.syncDir(path);
      },
    });
    try {
      const event = await writer.append({ event_type: "run.noted", run_id: "d", note: "first" });
      // Both seen together: the line reaches the file a moment before the write's promise
      // settles and the sync stage starts.
      await eventually(
        () => linesOnDisk(root) === 1 && dirSyncs === 1,
        "the first group written while its sync stage waits at the first directory fsync",
        5_000,
      );
      openGate();
      await writer.flush();
      assert.equal(dirSyncs, 2, "the flush synced the day's entry in events/ and the part's");
      assert.ok((await readCheckedLog(root)).ids.has(event.event_id));
    } finally {
      openGate();
      await writer.close();
      restore();
    }
  });
});

// The directory fsyncs a new part owes are part of its first sync: one that fails fails the group
// as a failed fdatasync does (cut back, told), and the next append starts over in a new part.
Deno.test("relaxed: a failed directory fsync fails its group like a failed fdatasync", async () => {
  await withTempDir(async (root) => {
    let failing = true;
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 5 });
    const restore = useDurableFs({
      ...REAL_FS,
      syncDir: (path) =>
        failing
          ? Promise.reject(new Error("injected: dir Input/output error"))
          : REAL_FS.syncDir(path),
    });
    try {
      await writer.append({ event_type: "run.noted", run_id: "d", note: "lost" });
      const err = await writer.flush().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof BufferedEventsLostError, `the flush is told: ${err}`);
      assert.equal(err.lostEvents, 1);
      assert.match(err.message, /injected: dir Input\/output error/);
      assert.equal((await readCheckedLog(root)).events, 0, "the group is cut back");
      failing = false;
      const kept = await writer.append({ event_type: "run.noted", run_id: "d", note: "kept" });
      await writer.flush();
      const log = await readCheckedLog(root);
      assert.deepEqual([...log.ids], [kept.event_id]);
    } finally {
      await writer.close();
      restore();
    }
  });
});

// A rollback keeps the lines before the failed group, and its fdatasync makes them durable; when
// the directory fsyncs the part owes fail there, those lines are not counted synced: the group
// that wrote them, its sync stage still waiting, is cut back and told, not acknowledged durable.
Deno.test("relaxed: a rollback that cannot sync the part's directory counts no line durable", async () => {
  await withTempDir(async (root) => {
    let dirSyncs = 0;
    let writes = 0;
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 5 });
    const { gate, openGate, restore } = gatedParts((file) => ({
      // Only the appending handle writes (a rollback truncates).
      write: (data) =>
        ++writes === 2 ? Promise.reject(new Error("injected: b's write fails")) : file.write(data),
    }), {
      syncDir: (path) => {
        dirSyncs++;
        if (dirSyncs === 1) return gate.then(() => REAL_FS.syncDir(path)); // a's stage waits
        if (dirSyncs === 2) return Promise.reject(new Error("injected: dir Input/output error"));
        return REAL_FS.syncDir(path);
      },
    });
    try {
      await writer.append({ event_type: "run.noted", run_id: "d", note: "a" });
      await eventually(() => dirSyncs === 1, "a's sync stage is at its directory fsync");
      await writer.append({ event_type: "run.noted", run_id: "d", note: "b" });
      await eventually(() => dirSyncs === 2, "b's rollback tried the owed directory fsyncs");
      openGate();
      const err = await writer.flush().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof BufferedEventsLostError, `the flush is told: ${err}`);
      assert.equal(err.lostEvents, 2, err.message);
      assert.equal((await readCheckedLog(root)).events, 0, "a's lines are cut back with b's");
    } finally {
      openGate();
      await writer.close();
      restore();
    }
  });
});

// A review of the two stages: a group whose first line did not fit its part rotated it with
// nothing written there, and closed it unsynced; the group before it, its sync stage waiting in
// line behind a slow one, found its part closed and was cut back: acknowledged, then lost. A
// rotation now syncs what earlier groups wrote to the part before closing it.
Deno.test("relaxed: a rotation syncs what earlier groups wrote to the part it closes", async () => {
  await withTempDir(async (root) => {
    let syncs = 0;
    const { gate, openGate, restore } = gatedParts((file) => ({
      syncData: () => {
        const synced = file.syncData(); // called at once, as the writer does: in flight
        return syncs++ === 0 ? gate.then(() => synced) : synced;
      },
    }));
    const writer = await openWriter(root, {
      durability: "relaxed",
      groupCommitMs: 5,
      partBytesMax: 1_000,
    });
    const noted = (fill: string, length: number) => ({
      event_type: "run.noted",
      run_id: "rot",
      note: fill.repeat(length),
    });
    const onDisk = async (id: string) => (await readCheckedLog(root)).ids.has(id);
    try {
      const a = await writer.append(noted("a", 150));
      await eventually(() => syncs === 1, "a's sync is in flight at the gate");
      const b = await writer.append(noted("b", 150)); // its sync stage waits behind a's
      await eventually(() => onDisk(b.event_id), "b written");
      const c = await writer.append(noted("c", 500)); // does not fit: a new part
      await eventually(() => onDisk(c.event_id), "c written");
      openGate();
      const err = await writer.flush().then(() => undefined, (e: unknown) => e);
      assert.equal(err, undefined, `nothing lost: ${err}`);
      const log = await readCheckedLog(root);
      assert.deepEqual([a, b, c].filter((e) => !log.ids.has(e.event_id)), []);
      assert.equal((await partPaths(root)).length, 2, "the part rotated");
    } finally {
      openGate();
      await writer.close();
      restore();
    }
  });
});

// Groups written while an earlier group's sync waits sit behind it in the same part: when that
// sync fails, the rollback of its group cuts them too. Each is told, none stays in the log (a
// retry would double it), and the writer goes on in a new part.
Deno.test("relaxed: a failed sync cuts the groups written behind it, and each is told", async () => {
  await withTempDir(async (root) => {
    let syncs = 0;
    const { gate, openGate, restore } = gatedParts((file) => ({
      syncData: () =>
        ++syncs === 2
          ? gate.then(() => Promise.reject(new Error("injected: Input/output error")))
          : file.syncData(),
    }));
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 5 });
    const noted = (note: string) => ({ event_type: "run.noted", run_id: "cut", note });
    try {
      await writer.append(noted("durable"));
      await writer.flush();
      await writer.append(noted("a")); // its group's sync fails at the gate
      await eventually(() => syncs === 2, "the second group's sync is at the gate");
      await writer.append(noted("b"));
      await writer.append(noted("c"));
      // Written behind it, their sync waiting for it:
      await eventually(async () => (await readCheckedLog(root)).events === 4, "b and c written");
      assert.equal(syncs, 2, "no sync passed the gate");
      openGate();
      const err = await writer.flush().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof BufferedEventsLostError, `the flush is told: ${err}`);
      assert.equal(err.lostEvents, 3, err.message);
      assert.match(err.message, /injected: Input\/output error/);
      assert.equal((await readCheckedLog(root)).events, 1, "only the synced event stays");
      const d = await writer.append(noted("d"));
      await writer.flush();
      const log = await readCheckedLog(root);
      assert.equal(log.events, 2);
      assert.ok(log.ids.has(d.event_id));
      assert.equal((await partPaths(root)).length, 2, "d went to a new part");
    } finally {
      openGate();
      await writer.close();
      restore();
    }
  });
});

Deno.test("relaxed: SIGKILL of a busy loop loses at most the window's events", async () => {
  await withTempDir(async (root) => {
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(new URL("./_relaxed_busy_child.ts", import.meta.url).pathname, [
        root,
        "busy",
      ]),
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const acked: string[] = [];
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let pending = "";
    while (acked.length < 500) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += value;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      acked.push(...lines);
    }
    child.kill("SIGKILL");
    await child.status;
    await reader.cancel();
    const stderr = await new Response(child.stderr).text();
    assert.ok(acked.length >= 500, `the child stopped early: ${stderr}`);
    const log = await readCheckedLog(root);
    const lost = acked.filter((id) => !log.ids.has(id));
    assert.ok(
      lost.length <= UNSYNCED_EVENTS_MAX,
      `${lost.length} of ${acked.length} acknowledged events lost to SIGKILL (${join(root)})`,
    );
  });
});

// A review of the fix above: it made every append past the window wait for the commit, so a
// caller that sleeps between emits (the timer free to run) waited for a slow fdatasync: p99 of
// 80-109 ms against 0.2-0.4. Such a caller never waits for the disk: here the disk's first sync
// does not end until every emit has answered.
Deno.test("relaxed: a caller that lets the timer run never waits for a slow disk", async () => {
  await withTempDir(async (root) => {
    const { gate, openGate, restore } = gatedParts((file) => ({
      syncData: () => gate.then(() => file.syncData()),
    }));
    const emitter = new EventEmitter({ root, durability: "relaxed", log: () => {} });
    try {
      for (let i = 0; i < 6; i++) {
        await new Promise((resolve) => setTimeout(resolve, 15)); // the timer may run
        const answered = emitter.runNoted("r1", { note: `n${i}` });
        const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 2_000));
        const first = await Promise.race([answered, late]);
        assert.notEqual(first, "late", `emit ${i} waited for the disk`);
      }
    } finally {
      openGate();
      await emitter.close();
      restore();
    }
    assert.equal((await readCheckedLog(root)).events, 6);
  });
});

// A review: a line appended while a commit waited for the disk got no timer (the append gave a
// turn instead), so it stayed in the buffer, acknowledged and unwritten, until the next append.
Deno.test("relaxed: a line appended while a commit runs is written with no later append", async () => {
  await withTempDir(async (root) => {
    let syncs = 0;
    const { gate, openGate, restore } = gatedParts((file) => ({
      syncData: () => (syncs++ === 0 ? gate : Promise.resolve()).then(() => file.syncData()),
    }));
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 5 });
    try {
      await writer.append({ event_type: "run.noted", run_id: "r1", note: "a" });
      await eventually(() => syncs === 1, "the first commit is at its fdatasync");
      const b = await writer.append({ event_type: "run.noted", run_id: "r1", note: "b" });
      openGate();
      // No append, flush or close: the writer's own timer writes it.
      await eventually(
        async () => (await readCheckedLog(root)).ids.has(b.event_id),
        "b is on disk",
      );
    } finally {
      openGate();
      await writer.close();
      restore();
    }
  });
});

// A review: an append held back at the byte limit was told an earlier group's failure, though
// its own group was written; the emitter, told its event failed, wrote it again under a new id.
Deno.test("relaxed: an append held at the byte limit is told only its own group's failure", async () => {
  await withTempDir(async (root) => {
    let writes = 0;
    const { gate, openGate, restore } = gatedParts((file) => ({
      write: (data) =>
        writes++ === 0
          ? gate.then(() => Promise.reject(new Error("injected: the first write fails")))
          : file.write(data),
    }));
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 60_000 });
    const trial = (i: number) => ({
      event_type: "trial.recorded",
      run_id: "bp",
      trial_id: `t${String(i).padStart(7, "0")}`, // every line has the same length
      params: { pad: "x".repeat(300) },
      metrics: {},
    });
    try {
      let i = 0;
      const first = writer.appendNow(trial(i++));
      assert.ok(!(first instanceof Promise));
      const lineBytes = encodeEventLine(first).length;
      const answers: Promise<unknown>[] = [];
      while (writes === 0) { // the first group's commit takes the buffer and starts its write
        const appended = writer.appendNow(trial(i++));
        if (appended instanceof Promise) await appended; // a turn per group
        if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      // Past the byte limit (the first group in flight, the rest buffered): held until written.
      while ((i + 1) * lineBytes < RELAXED_BUFFER_BYTES_MAX + 2 * lineBytes) {
        answers.push(Promise.resolve(writer.appendNow(trial(i++))));
      }
      const held = writer.appendNow(trial(i++));
      assert.ok(held instanceof Promise, "an append past the byte limit waits");
      openGate();
      const event = await held; // its own group is written: no error for it
      await Promise.all(answers);
      const err = await writer.flush().then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof BufferedEventsLostError, `the flush is told: ${err}`);
      const log = await readCheckedLog(root);
      assert.ok(log.ids.has(event.event_id));
      assert.equal(log.events, i - err.lostEvents, "each event written once or counted lost");
    } finally {
      openGate();
      await writer.close();
      restore();
    }
  });
});

// A review: a relaxed batch past the byte limit held each line on its group's outcome, awaited
// only the last: when the group failed, the others rejected unhandled and the process died after
// the batch had resolved.
Deno.test("relaxed: a batch held at the byte limit is told its group's failure once", async () => {
  await withTempDir(async (root) => {
    const { openGate, restore } = gatedParts(() => ({
      write: () => Promise.reject(new Error("injected: every write fails")),
    }));
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 60_000 });
    const pad = "p".repeat(500_000);
    const batch = Array.from({ length: 20 }, (_, i) => ({
      event_type: "trial.recorded",
      run_id: "r",
      trial_id: `t${i}`,
      params: {},
      metrics: { pad },
    }));
    try {
      const err = await writer.appendBatch(batch).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof BufferedEventsLostError, `the batch is told: ${err}`);
      assert.equal(err.lostEvents, 20);
      await new Promise((resolve) => setTimeout(resolve, 50)); // an uncaught rejection fails here
    } finally {
      openGate();
      await writer.close();
      restore();
    }
    assert.equal((await readCheckedLog(root)).events, 0);
  });
});

/**
 * The real file system, with `override(file)`'s methods in place of a part
 * file's own, `ops` in place of its other calls (`syncDir`), and a gate they
 * may wait on: `openGate` opens it, `restore` puts the real file system back.
 */
function gatedParts(
  override: (file: DurableFile) => Partial<DurableFile>,
  ops: Partial<Omit<DurableFsOps, "open">> = {},
) {
  let openGate!: () => void;
  const gate = new Promise<void>((resolve) => (openGate = resolve));
  const restore = useDurableFs({
    ...REAL_FS,
    ...ops,
    async open(path, options) {
      const file = await REAL_FS.open(path, options);
      if (!path.endsWith(".jsonl")) return file;
      return { ...boundFile(file), ...override(file) };
    },
  });
  return { gate, openGate, restore };
}

/**
 * Many relaxed appends past the byte limit at once (a caller that does not await each): they
 * are held on the one commit that takes them all, with the acknowledged lines before them. A
 * review: when that commit failed, only the first held append heard of it; the others resolved
 * with events never written. Now each held append rejects for its own line, and the pending
 * error counts only the acknowledged lines.
 */
function heldTrial(i: number) {
  return {
    event_type: "trial.recorded",
    run_id: "held",
    trial_id: `t${String(i).padStart(4, "0")}`,
    params: { pad: "h".repeat(200_000) },
    metrics: {},
  } as const;
}

const HELD_EVENTS = 100;

/** {@linkcode gatedParts} whose next write of a part fails once `failNext` is called. */
function oneFailedWrite() {
  let failing = false;
  const parts = gatedParts((file) => ({
    write: (data) => {
      if (!failing) return file.write(data);
      failing = false;
      return Promise.reject(new Error("injected: No space left on device"));
    },
  }));
  return { ...parts, failNext: () => (failing = true) };
}

/**
 * A relaxed writer with one event written and its next write set to fail,
 * then {@linkcode HELD_EVENTS} appends past the byte limit, made in one turn
 * of the event loop (so that they all wait on the one commit that fails):
 * `body` gets the writer and the answers of the appends held.
 */
async function withHeldAppends(
  body: (
    writer: Awaited<ReturnType<typeof openWriter>>,
    held: Promise<unknown>[],
    root: string,
  ) => Promise<void>,
): Promise<void> {
  await withTempDir(async (root) => {
    const { failNext, openGate, restore } = oneFailedWrite();
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 60_000 });
    try {
      await writer.appendNow({ event_type: "run.started", run_id: "held" });
      await writer.flush();
      failNext();
      const answers = Array.from({ length: HELD_EVENTS }, (_, i) => writer.appendNow(heldTrial(i)));
      await body(writer, answers.filter((a) => a instanceof Promise), root);
    } finally {
      openGate();
      await writer.close();
      restore();
    }
  });
}

Deno.test("relaxed: appends held on a commit that fails are each told their own loss", async () => {
  await withHeldAppends(async (writer, held, root) => {
    const acknowledged = HELD_EVENTS - held.length;
    assert.ok(held.length > 10 && acknowledged > 10, `${held.length} held`);
    const settled = await Promise.allSettled(held);
    const errors = settled.map((s) => s.status === "rejected" ? s.reason : undefined);
    assert.ok(errors.every((e) => e instanceof BufferedEventsLostError), String(errors[0]));
    const lost = errors as BufferedEventsLostError[];
    assert.ok(lost.every((e) => e.includesThisEvent));
    // The first is told the acknowledged lines too; the others only their own.
    assert.deepEqual(lost.map((e) => e.lostEvents), [
      acknowledged + 1,
      ...held.map(() => 1).slice(1),
    ]);
    assert.match(
      lost[0].message,
      new RegExp(
        `^${acknowledged} events acknowledged in relaxed mode and this one were not written`,
      ),
    );
    assert.match(
      lost[1].message,
      /^this event was not written \(its group commit failed\): Cannot write .*: injected/,
    );
    await writer.flush(); // nothing more to tell
    assert.equal((await readCheckedLog(root)).events, 1);
  });
});

Deno.test("emitter, relaxed: emits held on a commit that fails are appended again, counted once", async () => {
  await withTempDir(async (root) => {
    const { failNext, openGate, restore } = oneFailedWrite();
    const logged: string[] = [];
    const emitter = new EventEmitter({
      root,
      durability: "relaxed",
      writer: { groupCommitMs: 60_000 },
      log: (m) => logged.push(m),
    });
    try {
      assert.notEqual(await emitter.runStarted("held"), null);
      await emitter.flush();
      failNext();
      const ids = await Promise.all(
        Array.from({ length: HELD_EVENTS }, (_, i) => {
          const { trial_id, params, metrics } = heldTrial(i);
          return emitter.trialRecorded("held", { trial_id, params, metrics });
        }),
      );
      await emitter.flush();
      assert.ok(ids.every((id) => id !== null));
      const log = await readCheckedLog(root);
      const stats = emitter.stats();
      // Every emit is either in the log (held ones, appended again) or counted failed
      // (acknowledged ones, lost with the group): never both, never neither.
      assert.equal(stats.emitted, log.events, JSON.stringify(stats));
      assert.equal(stats.emitted + stats.failed, HELD_EVENTS + 1, JSON.stringify(stats));
      assert.ok(stats.failed > 10 && log.events > 10, JSON.stringify(stats));
      for (const id of ids.slice(HELD_EVENTS - 5)) {
        assert.ok(log.ids.has(id!), "a held emit's id is written");
      }
      assert.equal(logged.length, 1, logged.join("\n"));
      assert.match(
        logged[0],
        new RegExp(`^ledger emitter: BufferedEventsLostError: ${stats.failed} events acknowledged`),
      );
    } finally {
      openGate();
      await emitter.close();
      restore();
    }
  });
});

// A review: with a commit in flight and nothing buffered, close() waited for the queue, which
// settles a few microtasks before the commit's failure is kept: close() resolved, and the
// acknowledged event was lost and never told.
Deno.test("relaxed: close() during a commit that fails is told the loss", async () => {
  await withTempDir(async (root) => {
    let writes = 0;
    const { gate, openGate, restore } = gatedParts(() => ({
      write: () => {
        writes++;
        return gate.then(() => Promise.reject(new Error("injected: the write fails")));
      },
    }));
    const writer = await openWriter(root, { durability: "relaxed", groupCommitMs: 1 });
    try {
      writer.appendNow({ event_type: "run.started", run_id: "lost" });
      await eventually(() => writes === 1, "the timer's commit is writing");
      const closed = writer.close().then(() => undefined, (e: unknown) => e);
      openGate();
      const err = await closed;
      assert.ok(err instanceof BufferedEventsLostError, `close() is told: ${err}`);
      assert.equal(err.lostEvents, 1);
    } finally {
      openGate();
      restore();
    }
    assert.equal((await readCheckedLog(root)).events, 0);
  });
});

// A review: a batch held at the byte limit beside held appendNow calls, all on one commit that
// failed: the first appendNow told of it took the pending error, which counted the batch's
// lines, and the batch resolved, its events never written.
Deno.test("relaxed: a batch held on a failed commit beside held appends rejects", async () => {
  await withHeldAppends(async (writer, held, root) => {
    assert.ok(held.length > 10, `${held.length} held`);
    const batchEvents = 5;
    const batch = writer.appendBatch(
      Array.from({ length: batchEvents }, (_, i) => heldTrial(HELD_EVENTS + i)),
    );
    const [first, batchResult] = await Promise.allSettled([held[0], batch]);
    assert.equal(first.status, "rejected");
    assert.equal(batchResult.status, "rejected", "the batch's events were not written");
    const err = (batchResult as PromiseRejectedResult).reason;
    assert.ok(err instanceof BufferedEventsLostError, String(err));
    assert.equal(err.ownEvents, batchEvents);
    assert.equal(err.lostEvents, batchEvents, "the acknowledged lines went to the first");
    assert.match(err.message, /^5 events of this batch were not written/);
    await Promise.allSettled(held);
    await writer.flush();
    assert.equal((await readCheckedLog(root)).events, 1);
  });
});
