/**
 * Shared CLI parts (SPEC 3 "short-lived writers"): many `ledger emit`
 * processes of one day append to one `emit-NNNNNN.jsonl` under an exclusive
 * lock, and a writer SIGKILLed while holding that lock loses nothing that
 * was acknowledged and leaves no torn line in the middle of the file.
 *
 * `LEDGER_EMITS` sets how many emit processes the first test runs (default
 * below; 10000 for the full claim of SPEC 3, a long run).
 *
 * @module
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { exists } from "../../ledger/exists.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { listParts, readPartFile } from "../../ledger/reader.ts";
import { dayDir, dayOf, schemaPath, sharedPartFileName } from "../../ledger/paths.ts";
import {
  appendShared,
  type SharedPartLockWait,
  sharedPartLockWaitMessage,
  tornTailMessage,
  type TornTailRepair,
} from "../../ledger/shared_part.ts";
import { completeEvent, encodeEventLine } from "../../ledger/events.ts";
import { WriteError } from "../../ledger/errors.ts";
import {
  CLI_PATH,
  delay,
  denoScriptArgs,
  eventually,
  indexedIds,
  readCheckedLog,
  REPO_ROOT,
  runLedger,
  withTempDir,
} from "../_helpers.ts";
import { holdLock } from "./_hold_lock.ts";

/** Emit processes of the many-emits test (`LEDGER_EMITS` overrides). */
const EMITS = Number(Deno.env.get("LEDGER_EMITS") ?? "24");
/** Emit processes running at once. */
const EMITS_PARALLEL = 8;
/** Emits left waiting on the lock while its holder is killed. */
const WAITING_EMITS = 4;
/** How long the waiting emits are given to (wrongly) finish while the lock is held, in ms. */
const LOCK_HELD_MS = 1500;

function emitArgs(root: string, runId: string): string[] {
  return ["emit", "--root", root, "--event-type", "run.started", "--run-id", runId];
}

Deno.test(`shared part: ${EMITS} emit processes leave one part file per day`, async () => {
  await withTempDir(async (root) => {
    const acked: string[] = [];
    let next = 0;
    const lane = async () => {
      while (next < EMITS) {
        const i = next++;
        const r = await runLedger(emitArgs(root, `many-${i}`));
        assert.equal(r.code, 0, r.stderr);
        acked.push(r.stdout.trim());
      }
    };
    const startMs = performance.now();
    await Promise.all(Array.from({ length: EMITS_PARALLEL }, lane));
    const parts = await listParts(root);
    const days = new Set(parts.map((p) => p.file.split("/")[0]));
    console.log(
      `shared part: ${EMITS} emits in ${Math.round(performance.now() - startMs)} ms ` +
        `(${EMITS_PARALLEL} at once) left ${parts.length} part file(s) over ${days.size} day(s)`,
    );
    assert.ok(parts.length <= days.size * 2, `${parts.length} parts for ${days.size} days`);
    for (const part of parts) assert.match(part.file, /\/emit-\d{6}\.jsonl$/);
    const log = await readCheckedLog(root);
    assert.deepEqual(acked.filter((id) => !log.ids.has(id)), [], "acknowledged events in the log");
    assert.equal(log.ids.size, EMITS);
    await rebuildIndex(root);
    const indexed = await indexedIds(join(root, "index", "runs.duckdb"));
    assert.deepEqual(acked.filter((id) => !indexed.has(id)), [], "acknowledged events indexed");
  });
});

Deno.test("shared part: a writer SIGKILLed while holding the lock loses nothing acknowledged and leaves no torn line in the middle", async () => {
  await withTempDir(async (root) => {
    const first = await runLedger(emitArgs(root, "before"));
    assert.equal(first.code, 0, first.stderr);
    const acked = [first.stdout.trim()];
    const day = dayOf(Date.now());
    const path = join(dayDir(root, day), sharedPartFileName(1));

    const { holder, said } = await holdLock(path);

    let finishedWhileLocked = 0;
    const waiting = Array.from({ length: WAITING_EMITS }, (_, i) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: denoScriptArgs(CLI_PATH, emitArgs(root, `waiting-${i}`)),
        cwd: REPO_ROOT,
        env: { LEDGER_ROOT: "" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      return child.then((out) => {
        if (!killed) finishedWhileLocked += 1;
        return out;
      });
    });
    let killed = false;
    await new Promise((resolve) => setTimeout(resolve, LOCK_HELD_MS));
    assert.equal(finishedWhileLocked, 0, "an emit wrote while another process held the lock");
    killed = true;
    holder.kill("SIGKILL");
    assert.equal((await holder.status).signal, "SIGKILL");
    await said.done;
    for (const out of await Promise.all(waiting)) {
      assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
      acked.push(new TextDecoder().decode(out.stdout).trim());
    }

    const bytes = await Deno.readFile(path);
    assert.equal(bytes.at(-1), 0x0a, "the part ends with a whole line");
    const kinds: string[] = [];
    const ids = new Set<string>();
    for await (const record of readPartFile(path)) {
      kinds.push(record.kind);
      if (record.kind === "event") ids.add(record.event.event_id);
    }
    assert.deepEqual(
      kinds,
      acked.map(() => "event"),
      "only whole event lines: the torn one was cut",
    );
    assert.deepEqual(acked.filter((id) => !ids.has(id)), [], "every acknowledged event is there");
    assert.ok(!ids.has("torn-by-kill"));
  });
});

const HAS_MKFIFO = await new Deno.Command("mkfifo", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success, () => false);
if (!HAS_MKFIFO) console.log("shared part FIFO test ignored: mkfifo is not installed");

Deno.test({
  name: "shared part: emit refuses a FIFO at _schema.json or at the shared part, never hangs",
  ignore: !HAS_MKFIFO,
}, async (t) => {
  await withTempDir(async (root) => {
    const mkfifo = async (path: string) => {
      await Deno.mkdir(dirname(path), { recursive: true });
      assert.ok((await new Deno.Command("mkfifo", { args: [path] }).output()).success);
    };
    const day = dayOf(Date.now());
    for (
      const [label, path] of [
        ["_schema.json", schemaPath(root)],
        ["the shared part", join(dayDir(root, day), sharedPartFileName(1))],
      ] as const
    ) {
      await t.step(label, async () => {
        await mkfifo(path);
        const r = await runLedger(emitArgs(root, "fifo"));
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        assert.match(r.stderr, /FIFO, not a regular file/);
        assert.ok(r.stderr.includes(path), r.stderr);
        assert.deepEqual(await listParts(root), [], "nothing written");
        if (label === "_schema.json") {
          assert.ok(!(await exists(dayDir(root, day))), "not even the day directory");
        }
        await Deno.remove(path);
      });
    }
  });
});

Deno.test("shared part: emits waiting on the lock while the part is removed or replaced write to the part its path names", async (t) => {
  for (const how of ["removed", "replaced"] as const) {
    await t.step(how, async () => {
      await withTempDir(async (root) => {
        const first = await runLedger(emitArgs(root, "before"));
        assert.equal(first.code, 0, first.stderr);
        const path = join(dayDir(root, dayOf(Date.now())), sharedPartFileName(1));
        const { holder, said } = await holdLock(path);
        const waiting = Array.from(
          { length: WAITING_EMITS },
          (_, i) =>
            new Deno.Command(Deno.execPath(), {
              args: denoScriptArgs(CLI_PATH, emitArgs(root, `waiting-${i}`)),
              cwd: REPO_ROOT,
              env: { LEDGER_ROOT: "" },
              stdout: "piped",
              stderr: "piped",
            }).output(),
        );
        await new Promise((resolve) => setTimeout(resolve, LOCK_HELD_MS)); // they open it and wait
        if (how === "removed") {
          await Deno.remove(path);
        } else {
          // What `sed -i` or a restore does: a new file renamed over the part's name.
          await Deno.copyFile(path, `${path}.tmp`);
          await Deno.rename(`${path}.tmp`, path);
        }
        holder.kill("SIGKILL");
        await holder.status;
        await said.done;
        const acked: string[] = [];
        for (const out of await Promise.all(waiting)) {
          assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
          acked.push(new TextDecoder().decode(out.stdout).trim());
        }
        const log = await readCheckedLog(root);
        assert.deepEqual(
          acked.filter((id) => !log.ids.has(id)),
          [],
          "acknowledged events in the log",
        );
      });
    });
  }
});

Deno.test("shared part: an append gives up, writing nothing, when the lock holder never lets go", async () => {
  await withTempDir(async (root) => {
    const event = completeEvent({ event_type: "run.started", run_id: "r1" });
    await appendShared(root, [event], [encodeEventLine(event)]);
    const path = join(dayDir(root, dayOf(event.timestamp_ms)), sharedPartFileName(1));
    const before = await Deno.readFile(path);
    // A holder that never releases (a stopped process): another open file description.
    const holder = await Deno.open(path, { read: true, write: true });
    try {
      await holder.lock(true);
      const next = completeEvent({ event_type: "run.started", run_id: "r2" });
      const HOLDER_STOPPED_MS = 10_000; // how long the test waits for the append to give up
      const gaveUp = appendShared(root, [next], [encodeEventLine(next)], { lockWaitMsMax: 300 })
        .then(() => "written", (err: unknown) => err);
      const answer = await Promise.race([
        gaveUp,
        new Promise((resolve) => setTimeout(() => resolve("still waiting"), HOLDER_STOPPED_MS)),
      ]);
      assert.ok(answer instanceof WriteError, `the append answered ${String(answer)}`);
      assert.match(
        answer.message,
        /^Cannot write [^:]+: another process has held its lock for 300 ms/,
      );
      assert.ok(answer.message.includes(path), answer.message);
      assert.deepEqual(await Deno.readFile(path), before, "nothing written");
    } finally {
      holder.close();
    }
  });
});

Deno.test("shared part: a dead batch's marker cuts the part its path names when the part is replaced while the cleanup waits", async () => {
  await withTempDir(async (root) => {
    const acked = completeEvent({ event_type: "run.started", run_id: "acked" });
    await appendShared(root, [acked], [encodeEventLine(acked)]);
    const day = dayOf(acked.timestamp_ms);
    const path = join(dayDir(root, day), sharedPartFileName(1));
    const ackedBytes = await Deno.readFile(path);
    // A batch killed after its marker and its lines, before its acknowledgement.
    const dead = completeEvent({ event_type: "run.started", run_id: "dead" });
    await Deno.writeFile(path, encodeEventLine(dead), { append: true });
    const pending = join(root, "events", ".pending");
    await Deno.mkdir(pending, { recursive: true });
    await Deno.writeTextFile(
      join(pending, `${day}__${sharedPartFileName(1)}.size`),
      JSON.stringify({ size: ackedBytes.length }),
    );
    const holder = await Deno.open(path, { read: true, write: true });
    const next = completeEvent({ event_type: "run.started", run_id: "next" });
    let append: Promise<unknown> | undefined;
    try {
      await holder.lock(true);
      append = appendShared(root, [next], [encodeEventLine(next)]);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the cleanup waits on the lock
      // What `sed -i` or a restore does: a new file renamed over the part's name.
      await Deno.copyFile(path, `${path}.tmp`);
      await Deno.rename(`${path}.tmp`, path);
    } finally {
      holder.close(); // lets the waiting cleanup go on
    }
    await append;
    const text = await Deno.readTextFile(path);
    assert.equal(
      text,
      new TextDecoder().decode(ackedBytes) + new TextDecoder().decode(encodeEventLine(next)),
      "the dead batch's line cut from the part the path names",
    );
    assert.deepEqual((await Array.fromAsync(Deno.readDir(pending))).map((e) => e.name), []);
  });
});

Deno.test("shared part: an append waiting for a part's lock tells onLockWait once, then writes", async () => {
  await withTempDir(async (root) => {
    const event = completeEvent({ event_type: "run.started", run_id: "r1" });
    await appendShared(root, [event], [encodeEventLine(event)]);
    const path = join(dayDir(root, dayOf(event.timestamp_ms)), sharedPartFileName(1));
    const waits: SharedPartLockWait[] = [];
    const options = {
      lockNoticeAfterMs: 100,
      onLockWait: (w: SharedPartLockWait) => waits.push(w),
    };
    // A free lock: nothing to tell.
    const quick = completeEvent({ event_type: "run.started", run_id: "quick" });
    await appendShared(root, [quick], [encodeEventLine(quick)], options);
    assert.equal(waits.length, 0, "nothing to tell");
    const holder = await Deno.open(path, { read: true, write: true });
    const next = completeEvent({ event_type: "run.started", run_id: "r2" });
    let append: Promise<unknown> | undefined;
    try {
      await holder.lock(true);
      append = appendShared(root, [next], [encodeEventLine(next)], options);
      await eventually(() => waits.length > 0, "the waiting append tells onLockWait");
      await delay(500); // several notice periods more: told once
    } finally {
      holder.close(); // lets the waiting append go on
    }
    await append;
    assert.equal(waits.length, 1, JSON.stringify(waits));
    assert.equal(waits[0].path, path);
    assert.equal(waits[0].waitMsMax, 60_000);
    assert.ok(waits[0].waitedMs >= 100 && waits[0].waitedMs < 600, String(waits[0].waitedMs));
    assert.match(
      sharedPartLockWaitMessage("ledger emit", waits[0]),
      /^ledger emit: waited \d+ ms for the lock of \S+emit-000001\.jsonl: .*; still waiting, up to 60000 ms in all$/,
    );
    assert.ok((await Deno.readTextFile(path)).includes('"run_id":"r2"'), "written once let go");
  });
});

Deno.test("shared part: a torn last line cut off before appending is told to onTornTail", async () => {
  await withTempDir(async (root) => {
    const event = completeEvent({ event_type: "run.started", run_id: "r1" });
    await appendShared(root, [event], [encodeEventLine(event)]);
    const path = join(dayDir(root, dayOf(event.timestamp_ms)), sharedPartFileName(1));
    const torn = '{"event_type":"run.started","run_id":"by-hand"}'; // no newline
    await Deno.writeTextFile(path, torn, { append: true });
    const repairs: TornTailRepair[] = [];
    const next = completeEvent({ event_type: "run.started", run_id: "r2" });
    const report = await appendShared(root, [next], [encodeEventLine(next)], {
      onTornTail: (repair) => repairs.push(repair),
    });
    assert.deepEqual(repairs, [{ path, bytes: torn.length }]);
    assert.equal(report.tornBytesRepaired, torn.length);
    assert.equal(
      tornTailMessage("ledger emit", repairs[0]),
      `ledger emit: removed ${torn.length} bytes of a torn last line from ${path} ` +
        "(a writer killed mid-line, or a line appended without its newline)",
    );
    // A whole last line: nothing cut, nothing told.
    const last = completeEvent({ event_type: "run.started", run_id: "r3" });
    await appendShared(root, [last], [encodeEventLine(last)], {
      onTornTail: (repair) => repairs.push(repair),
    });
    assert.equal(repairs.length, 1);
  });
});

// helper-298: a stopped batch of one day (its part's lock held, its marker in events/.pending)
// made every emit of the root wait for that lock, whatever its day, then fail naming the other
// day's part: an append resolves the abandoned batches of its own days only, and leaves a held
// part of another day to its writer.
Deno.test("shared part: a batch holding another day's part does not hold up an append", async () => {
  await withTempDir(async (root) => {
    const today = completeEvent({ event_type: "run.started", run_id: "r1" });
    await appendShared(root, [today], [encodeEventLine(today)]);
    const path = join(dayDir(root, dayOf(today.timestamp_ms)), sharedPartFileName(1));
    const size = (await Deno.stat(path)).size;
    // A live batch of today, stopped: its marker records the part's size before it.
    const marker = join(
      root,
      "events",
      ".pending",
      `${dayOf(today.timestamp_ms)}__${sharedPartFileName(1)}.size`,
    );
    await Deno.mkdir(dirname(marker), { recursive: true });
    await Deno.writeTextFile(marker, JSON.stringify({ size }));
    const holder = await Deno.open(path, { read: true, write: true });
    try {
      await holder.lock(true);
      const earlier = completeEvent({
        event_type: "run.started",
        run_id: "r2",
        timestamp_ms: Date.UTC(2023, 10, 14, 12),
      });
      const started = performance.now();
      const report = await appendShared(root, [earlier], [encodeEventLine(earlier)], {
        lockWaitMsMax: 3000,
      });
      assert.ok(performance.now() - started < 2000, "not held up by the other day's lock");
      assert.match(report.paths[0], /day=2023-11-14\/emit-000001\.jsonl$/);
      assert.equal(await exists(marker), true, "the live batch's marker is left to it");
      // The same day's append still waits for that batch, and gives up as before.
      const same = completeEvent({ event_type: "run.started", run_id: "r3" });
      const refused = await appendShared(root, [same], [encodeEventLine(same)], {
        lockWaitMsMax: 300,
      }).then(() => undefined, (err: unknown) => err);
      assert.ok(refused instanceof WriteError, String(refused));
      assert.match(refused.message, /another process has held its lock for 300 ms/);
    } finally {
      holder.close();
    }
  });
});
