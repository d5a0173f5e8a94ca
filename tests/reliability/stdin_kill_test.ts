/**
 * `ledger emit --stdin` is all or nothing (SPEC 8), also when the process is
 * SIGKILLed while it appends: a real emit of a large batch is killed once its
 * lines have started to reach the part. What it wrote was never
 * acknowledged (no id printed), and the next `ledger emit` removes it
 * before appending its own event: no line of the batch stays, nothing
 * acknowledged is lost, `verify` finds the log sound. A rebuild before that
 * emit indexes none of the batch's lines.
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { CROSS_DAY_LOG_NAME } from "../../ledger/shared_part.ts";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runLedger } from "../_helpers.ts";

/** Lines in the killed batch, and the bytes of each (about 60 MB in all). */
const BATCH_LINES = 20_000;
const PAD_CHARS = 3_000;
/** Fresh roots tried until one kill lands inside the append (the write is fast). */
const ATTEMPTS_MAX = 6;
const BATCH_COMMIT_CHILD = new URL("./_batch_commit_child.ts", import.meta.url).pathname;

async function partText(root: string): Promise<string> {
  let text = "";
  for (const day of Deno.readDirSync(join(root, "events"))) {
    if (!day.isDirectory || !day.name.startsWith("day=")) continue;
    for (const f of Deno.readDirSync(join(root, "events", day.name))) {
      text += await Deno.readTextFile(join(root, "events", day.name, f.name));
    }
  }
  return text;
}

function partSize(root: string): number {
  let size = 0;
  for (const day of Deno.readDirSync(join(root, "events"))) {
    if (!day.isDirectory || !day.name.startsWith("day=")) continue;
    for (const f of Deno.readDirSync(join(root, "events", day.name))) {
      size += Deno.statSync(join(root, "events", day.name, f.name)).size;
    }
  }
  return size;
}

/** Rebuild the index (incrementally) and count its events and ingest errors. */
async function indexedCounts(root: string): Promise<string> {
  const rebuilt = await runLedger(["rebuild-index", "--root", root]);
  equal(rebuilt.code, 0, rebuilt.stderr);
  const counted = await runLedger([
    ...["sql", "--root", root, "--format", "jsonl"],
    "SELECT (SELECT count(*) FROM events) AS e, (SELECT count(*) FROM ingest_errors) AS x",
  ]);
  equal(counted.code, 0, counted.stderr);
  const { e, x } = JSON.parse(counted.stdout);
  return `${e} events, ${x} errors`;
}

Deno.test("emit --stdin: a batch SIGKILLed mid-append is removed by the next emit", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-stdin-kill-" });
  const batch = Array.from({ length: BATCH_LINES }, (_, i) =>
    JSON.stringify({
      event_type: "trial.recorded",
      run_id: "b",
      trial_id: `t${i}`,
      params: { pad: "x".repeat(PAD_CHARS) },
      metrics: {},
    })).join("\n") + "\n";
  let killedMidAppend = 0;
  try {
    for (let attempt = 0; attempt < ATTEMPTS_MAX && killedMidAppend === 0; attempt++) {
      const root = join(dir, `root-${attempt}`);
      const created = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "b"],
        ...["--run-type", "x", "--config", "{}", "--data-fingerprint", "f"],
      ]);
      equal(created.code, 0, created.stderr);
      const before = partSize(root);
      const child = new Deno.Command(Deno.execPath(), {
        args: denoScriptArgs(CLI_PATH, ["emit", "--root", root, "--stdin"]),
        env: { LEDGER_ROOT: "" },
        stdin: "piped",
        stdout: "piped",
        stderr: "null",
      }).spawn();
      const stdout = new Response(child.stdout).text();
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(batch));
      await writer.close();
      // Kill as soon as the batch's bytes start to land in the part.
      let grown = false;
      for (let i = 0; i < 60_000 && !grown; i++) {
        grown = partSize(root) > before;
        if (!grown) await new Promise((r) => setTimeout(r, 1));
      }
      ok(grown, "the batch reached the part");
      child.kill("SIGKILL");
      const status = await child.status;
      const printed = (await stdout).trim();
      const atKill = (await partText(root)).split("\n").filter((l) => l.includes('"trial_id"'));
      if (status.signal !== "SIGKILL" || printed !== "" || atKill.length === BATCH_LINES) {
        continue; // the batch finished before the kill: try again
      }
      killedMidAppend++;
      ok(atKill.length > 0, "some of the batch was in the part when it was killed");
      // Before any writer cuts it, a rebuild reads the part only up to the batch's record:
      // none of its lines is an event (no id was printed), nor an ingest error.
      equal(await indexedCounts(root), "1 events, 0 errors");
      // The next emit (one event) cuts the unacknowledged batch before appending.
      const next = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "b"],
      ]);
      equal(next.code, 0, next.stderr);
      // Said, as a torn tail's cut is (a probe: 8 MB of a killed batch went in silence).
      match(
        next.stderr,
        /^ledger emit: removed \d+ bytes of a batch whose writer died before acknowledging it/m,
      );
      const lines = (await partText(root)).trim().split("\n");
      equal(lines.filter((l) => l.includes('"trial_id"')).length, 0, "no line of the batch");
      equal(lines.length, 2, "run.created and run.started, nothing else");
      const verify = await runLedger(["verify", "--root", root]);
      equal(verify.code, 0, verify.stdout);
      equal(await indexedCounts(root), "2 events, 0 errors"); // the cut part, read again
      equal([...Deno.readDirSync(join(root, "events", ".pending"))].length, 0);
    }
    ok(killedMidAppend > 0, `no kill landed inside the append in ${ATTEMPTS_MAX} attempts`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A batch spanning days records a marker per day's part; a day nobody writes to again is cut
// back by the next emit of any day (the markers are resolved before it takes its own lock).
Deno.test("emit: a dead batch's marker on another day's part is resolved by the next emit", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-stdin-marker-" });
  try {
    const first = JSON.stringify({
      event_type: "run.created",
      event_id: "old-1",
      timestamp_ms: Date.UTC(2026, 0, 20),
      run_id: "old",
      run_type: "x",
      config: {},
      data_fingerprint: "f",
    }) + "\n";
    const abandoned = JSON.stringify({
      event_type: "run.started",
      event_id: "old-2",
      timestamp_ms: Date.UTC(2026, 0, 20) + 1,
      run_id: "old",
    }) + "\n";
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    await Deno.writeTextFile(join(day, "emit-000001.jsonl"), first + abandoned);
    await Deno.mkdir(join(root, "events", ".pending"));
    const marker = join(root, "events", ".pending", "2026-01-20__emit-000001.jsonl");
    await Deno.writeTextFile(
      marker,
      JSON.stringify({ size: new TextEncoder().encode(first).length }),
    );
    const warned = await runLedger(["verify", "--root", root]);
    equal(warned.stdout.includes("whose writer died before acknowledging it"), true, warned.stdout);
    const r = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "today"],
      ...["--run-type", "x", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    equal(r.code, 0, r.stderr);
    equal(await Deno.readTextFile(join(day, "emit-000001.jsonl")), first);
    equal([...Deno.readDirSync(join(root, "events", ".pending"))].length, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A batch on two days' parts records a marker per part and removes them one by one once its
// lines are durable: a kill between the two removals must not leave the first day's lines
// kept and the second day's cut (an audit: half a batch that was never acknowledged).
Deno.test("emit --stdin: a two-day batch killed between its markers' removals stays whole", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-stdin-commit-" });
  try {
    const child = await new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(BATCH_COMMIT_CHILD, [root]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(child.signal, "SIGKILL", new TextDecoder().decode(child.stderr));
    const batchLines = async () =>
      (await partText(root)).split("\n").filter((l) => l.includes('"run_id":"b"')).length;
    equal(await batchLines(), 2, "both lines were durable before the kill");
    // A rebuild reads each part up to its marker, if that marker still cuts.
    const indexed = await indexedCounts(root);
    ok(indexed === "2 events, 0 errors" || indexed === "0 events, 0 errors", indexed);
    const next = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "n"],
      ...["--timestamp-ms", String(Date.UTC(2026, 0, 2, 13))],
    ]);
    equal(next.code, 0, next.stderr);
    const kept = await batchLines();
    ok(kept === 0 || kept === 2, `${kept} of the batch's 2 lines kept: all or nothing`);
    equal(await indexedCounts(root), `${kept + 1} events, 0 errors`);
    // No record of the batch is left; the cross-day log (for readers) names its parts.
    const left = [...Deno.readDirSync(join(root, "events", ".pending"))].map((e) => e.name);
    deepEqual(left, [CROSS_DAY_LOG_NAME]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
