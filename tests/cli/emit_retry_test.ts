/**
 * A retried `emit` (the same event again, by the `event_id` the caller gave)
 * is not written again: written twice, `verify` called the log NOT SOUND for
 * good, though the index counts the event once (an audit). Only acknowledged
 * lines count as the log holding it: a batch killed while it appended holds
 * lines the next writer cuts, so a retry of one of its events is written.
 * Emits of given ids take the log's run-id lock, so two at once (a timeout
 * and its retry) write one line (a review: both wrote, behind a held part).
 */
import { deepStrictEqual as deepEqual, match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { hashTree, runLedger, withTempDir } from "../_helpers.ts";
import { openWriter } from "../../ledger/writer.ts";

const CREATED = JSON.stringify({
  event_type: "run.created",
  event_id: "fixed-id-1",
  run_id: "same",
  run_type: "x",
  config: {},
  data_fingerprint: "f",
  timestamp_ms: Date.UTC(2026, 0, 20),
});
const STARTED = JSON.stringify({
  event_type: "run.started",
  event_id: "s1",
  run_id: "same",
  timestamp_ms: Date.UTC(2026, 0, 20, 0, 0, 1),
});

async function logLines(root: string): Promise<string[]> {
  const dir = join(root, "events", "day=2026-01-20");
  const lines: string[] = [];
  for await (const e of Deno.readDir(dir)) {
    const text = await Deno.readTextFile(join(dir, e.name));
    lines.push(...text.split("\n").filter((l) => l !== ""));
  }
  return lines;
}

Deno.test("emit: a retry of an event by its id writes nothing; verify stays sound", async (t) => {
  await withTempDir(async (root) => {
    const emit = (args: string[], stdin?: string) =>
      runLedger(["emit", "--root", root, ...args], stdin === undefined ? {} : { stdin });
    equal((await emit(["--event", CREATED])).code, 0);

    await t.step("--event again: the id printed, nothing appended, one stderr line", async () => {
      const before = await hashTree(root);
      const r = await emit(["--event", CREATED]);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, "fixed-id-1\n");
      match(r.stderr, /^ledger emit: 1 event already in the log .*not written again\n$/);
      deepEqual(await hashTree(root), before);
    });

    await t.step("a batch: the held event and the batch's own repeat are left out", async () => {
      const r = await emit(["--stdin"], `${CREATED}\n${STARTED}\n${STARTED}\n`);
      equal(r.code, 0, r.stderr);
      equal(r.stdout, "fixed-id-1\ns1\ns1\n");
      deepEqual((await logLines(root)).map((l) => JSON.parse(l).event_id), ["fixed-id-1", "s1"]);
      const v = await runLedger(["verify", "--root", root]);
      equal(v.code, 0, v.stdout);
    });
  });
});

Deno.test("emit: a given id at another given time is another event, refused", async (t) => {
  // A probe: a backfill repeating an event_id with another timestamp_ms was taken for a retry
  // (exit 0, "not written again"): the time a caller gives is kept as given (SPEC 4).
  await withTempDir(async (root) => {
    const emit = (args: string[], stdin?: string) =>
      runLedger(["emit", "--root", root, ...args], stdin === undefined ? {} : { stdin });
    equal((await emit(["--event", CREATED])).code, 0);
    const later = JSON.stringify({ ...JSON.parse(CREATED), timestamp_ms: Date.UTC(2023, 10, 14) });

    await t.step("--event at another time: exit 2, named, nothing written", async () => {
      const before = await hashTree(root);
      const r = await emit(["--event", later]);
      equal(r.code, 2, r.stderr);
      equal(r.stdout, "");
      match(
        r.stderr,
        /event_id "fixed-id-1" is already in the log .* for another event: the same fields at timestamp_ms 1768867200000, not the 1699920000000 given/,
      );
      deepEqual(await hashTree(root), before);
    });

    await t.step("the same id twice in a batch at two given times: exit 2", async () => {
      const before = await hashTree(root);
      const other = JSON.stringify({ ...JSON.parse(later), event_id: "fresh", run_id: "other" });
      const otherLater = JSON.stringify({ ...JSON.parse(other), timestamp_ms: 1 });
      const r = await emit(["--stdin"], `${other}\n${otherLater}\n`);
      equal(r.code, 2, r.stderr);
      match(r.stderr, /"fresh" is given to two different events in this batch \(lines 1 and 2\)/);
      deepEqual(await hashTree(root), before);
    });

    await t.step("at its own time, or with the time left to the writer: a retry", async () => {
      const before = await hashTree(root);
      const { timestamp_ms: _, ...untimed } = JSON.parse(CREATED);
      for (const event of [CREATED, JSON.stringify(untimed)]) {
        const r = await emit(["--event", event]);
        equal(r.code, 0, r.stderr);
        match(r.stderr, /already in the log .*not written again/);
      }
      deepEqual(await hashTree(root), before);
    });
  });
});

Deno.test("emit: a retry of an event only a killed batch wrote is written", async () => {
  await withTempDir(async (root) => {
    // A batch that recorded the part empty, appended its line and died before acknowledging.
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "emit-000001.jsonl"), `${CREATED}\n`);
    await Deno.mkdir(join(root, "events", ".pending"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "events", ".pending", "2026-01-20__emit-000001.jsonl.size"),
      '{"size":0}',
    );
    const r = await runLedger(["emit", "--root", root, "--event", CREATED]);
    equal(r.code, 0, r.stderr);
    equal(r.stderr.includes("not written again"), false, r.stderr);
    // The dead batch's line was cut and the retry appended: the event once, acknowledged.
    deepEqual((await logLines(root)).map((l) => JSON.parse(l).event_id), ["fixed-id-1"]);
    const v = await runLedger(["verify", "--root", root]);
    equal(v.code, 0, v.stdout);
  });
});

Deno.test("emit: two emits of one given id at once, queued behind a held part, write it once", async () => {
  await withTempDir(async (root) => {
    equal((await runLedger(["emit", "--root", root, "--event", CREATED])).code, 0);
    const part = join(root, "events", "day=2026-01-20", "emit-000001.jsonl");
    // Another writer holds the day's shared part until its standard input closes.
    const holder = new Deno.Command(Deno.execPath(), {
      args: [
        "eval",
        `const f = await Deno.open(${JSON.stringify(part)}, { read: true, write: true });
        await f.lock(true);
        console.log("locked");
        for await (const _ of Deno.stdin.readable) { /* until closed */ }`,
      ],
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const reader = holder.stdout.getReader();
    equal(new TextDecoder().decode((await reader.read()).value), "locked\n");
    const emits = [0, 1].map(() => runLedger(["emit", "--root", root, "--event", STARTED]));
    await new Promise((r) => setTimeout(r, 1_500)); // both have looked for the id by now
    await holder.stdin.close();
    reader.releaseLock();
    await holder.stdout.cancel();
    await holder.status;
    const results = await Promise.all(emits);
    deepEqual(results.map((r) => [r.code, r.stdout]), [[0, "s1\n"], [0, "s1\n"]]);
    deepEqual((await logLines(root)).map((l) => JSON.parse(l).event_id), ["fixed-id-1", "s1"]);
    const v = await runLedger(["verify", "--root", root]);
    equal(v.code, 0, v.stdout);
  });
});

Deno.test("emit: a retry of an in-process writer's event is written again", async () => {
  await withTempDir(async (root) => {
    // That writer may still take its line back (a failed write): no lock to wait on, so the
    // retry is written, a repeat verify names, never a loss (a review).
    const writer = await openWriter(root);
    await writer.append(JSON.parse(STARTED));
    await writer.close();
    const r = await runLedger(["emit", "--root", root, "--event", STARTED]);
    equal(r.code, 0, r.stderr);
    equal(r.stdout, "s1\n");
    equal(r.stderr.includes("not written again"), false, r.stderr);
    deepEqual((await logLines(root)).map((l) => JSON.parse(l).event_id), ["s1", "s1"]);
  });
});

Deno.test("emit: a second retry of an in-process writer's event is answered by the first's line", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    await writer.append(JSON.parse(STARTED)); // day=2026-01-20, listed before today's parts
    await writer.close();
    // Without a time, each retry is dated now (another day): the writer's line comes first.
    const { timestamp_ms: _t, ...undated } = JSON.parse(STARTED);
    const retry = () => runLedger(["emit", "--root", root, "--event", JSON.stringify(undated)]);
    const first = await retry();
    equal(first.code, 0, first.stderr);
    equal(first.stderr.includes("not written again"), false, first.stderr);
    // A review: each retry wrote one more copy, the first line found being the writer's.
    const second = await retry();
    equal(second.code, 0, second.stderr);
    match(second.stderr, /not written again/);
    const events = [];
    for await (const day of Deno.readDir(join(root, "events"))) {
      if (!day.name.startsWith("day=")) continue;
      for await (const part of Deno.readDir(join(root, "events", day.name))) {
        const text = await Deno.readTextFile(join(root, "events", day.name, part.name));
        events.push(...text.split("\n").filter((l) => l !== ""));
      }
    }
    equal(events.length, 2, events.join("\n"));
  });
});

Deno.test({
  name: "emit: a retry answered from a part it may not write still exits 0",
  ignore: !immutableSupported(),
  fn: async () => {
    await withTempDir(async (root) => {
      const dir = join(root, "events", "day=2026-01-20");
      await Deno.mkdir(dir, { recursive: true });
      const part = join(dir, "part-000001.jsonl"); // a Python tool's
      await Deno.writeTextFile(part, `${STARTED}\n`);
      // Immutable: not even root may open it for writing (a review: Permission denied, exit 1).
      await chattr("+i", part);
      try {
        const r = await runLedger(["emit", "--root", root, "--event", STARTED]);
        equal(r.code, 0, r.stderr);
        equal(r.stdout, "s1\n");
        match(r.stderr, /not written again/);
      } finally {
        await chattr("-i", part);
      }
    });
  },
});

/** Whether `chattr +i` works here (ext4 and the capability); printed when it does not. */
function immutableSupported(): boolean {
  const probe = Deno.makeTempFileSync();
  try {
    const ok = new Deno.Command("chattr", { args: ["+i", probe], stderr: "null" }).outputSync()
      .success;
    if (!ok) console.error("chattr +i is not available here: the read-only part test is ignored");
    new Deno.Command("chattr", { args: ["-i", probe], stderr: "null" }).outputSync();
    return ok;
  } catch (err) {
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    console.error("no chattr here: the read-only part test is ignored");
    return false;
  } finally {
    Deno.removeSync(probe);
  }
}

async function chattr(flag: string, path: string): Promise<void> {
  const out = await new Deno.Command("chattr", { args: [flag, path] }).output();
  equal(out.success, true, `chattr ${flag} ${path}`);
}
