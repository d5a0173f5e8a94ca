/**
 * `verify` counted the lines of a batch whose writer died before
 * acknowledging it (`ledger emit --stdin` killed mid-batch) as events, and
 * called the log sound, while the index reads a shared part only up to the
 * size the batch's marker recorded (the writer audit: verify 3 events, the
 * index 1). Those lines are now left out of verify's counts too, and said
 * in one warning.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyLog } from "../../ledger/verify.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { withTempDir } from "./_helpers.ts";

const DAY = "2026-01-20";
const T0 = Date.UTC(2026, 0, 20, 12);

function line(runId: string, n: number): string {
  return JSON.stringify({
    event_type: "run.started",
    event_id: `${runId}-${n}`,
    timestamp_ms: T0 + n,
    run_id: runId,
    schema_version: 1,
  });
}

Deno.test("verify leaves out a dead batch's lines, as the index does", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", `day=${DAY}`);
    await Deno.mkdir(dir, { recursive: true });
    const part = join(dir, "emit-000001.jsonl");
    await Deno.writeTextFile(part, line("acked", 1) + "\n");
    const acknowledged = (await Deno.stat(part)).size;
    // A batch recorded the part's size, appended two lines and part of a third, and died.
    await Deno.mkdir(join(root, "events", ".pending"));
    await Deno.writeTextFile(
      join(root, "events", ".pending", `${DAY}__emit-000001.jsonl.size`),
      JSON.stringify({ size: acknowledged }),
    );
    await Deno.writeTextFile(part, `${line("dead", 2)}\n${line("dead", 3)}\n{"event_`, {
      append: true,
    });

    const report = await verifyLog(root);
    assert.equal(report.totals.events, 1);
    assert.equal(report.totals.lines, 1);
    assert.equal(report.totals.torn, 0, "the torn tail is the dead batch's");
    assert.equal(report.totals.runs, 1);
    const said = report.warnings.filter((w) => w.includes("whose writer died"));
    assert.equal(said.length, 2, report.warnings.join("\n")); // the marker, and its lines
    assert.match(
      said.join("\n"),
      /3 lines of a batch .* \(first at day=2026-01-20\/emit-000001\.jsonl:2;/,
    );

    const indexed = await rebuildIndex(root, {});
    assert.equal(indexed.events, report.totals.events);
  });
});

Deno.test("verify's second read leaves a dead batch's lines out too", async () => {
  await withTempDir(async (root) => {
    // An id on two lines, the later-read one earlier in time (it wins: the log is counted
    // again), and a dead batch after it in the same part.
    const day1 = join(root, "events", "day=2026-01-19");
    const day2 = join(root, "events", `day=${DAY}`);
    await Deno.mkdir(day1, { recursive: true });
    await Deno.mkdir(day2, { recursive: true });
    const repeated = (ms: number) =>
      line("kept", 1).replace(`"timestamp_ms":${T0 + 1}`, `"timestamp_ms":${ms}`);
    await Deno.writeTextFile(join(day1, "part-a.jsonl"), repeated(T0 + 10) + "\n");
    const part = join(day2, "emit-000001.jsonl");
    await Deno.writeTextFile(part, repeated(T0 + 5) + "\n");
    await Deno.mkdir(join(root, "events", ".pending"));
    await Deno.writeTextFile(
      join(root, "events", ".pending", `${DAY}__emit-000001.jsonl.size`),
      JSON.stringify({ size: (await Deno.stat(part)).size }),
    );
    await Deno.writeTextFile(part, `${line("dead", 2)}\n${line("dead", 3)}\n`, { append: true });

    const report = await verifyLog(root);
    assert.equal(report.totals.duplicateIds, 1);
    assert.equal(report.totals.events, 1);
    assert.equal(report.totals.runs, 1, "the dead batch's run is not counted");
    const byType = report.days.map((d) => d.eventsByType);
    assert.deepEqual(byType, [{}, { "run.started": 1 }], "the winning line, counted once");
    const indexed = await rebuildIndex(root, {});
    assert.equal(indexed.events, report.totals.events);
    assert.equal(indexed.runs, report.totals.runs);
  });
});

Deno.test("verify leaves out a dead batch's lines when it reads the log again for a repeated id", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", `day=${DAY}`);
    await Deno.mkdir(dir, { recursive: true });
    // An id repeated with an earlier time on its later line: that line wins, and the second
    // read counts the log again (the differential audit's seed 9 had this beside a dead batch).
    const repeated = (ms: number) =>
      JSON.stringify({
        event_type: "run.started",
        event_id: "same",
        timestamp_ms: ms,
        run_id: "acked",
      });
    await Deno.writeTextFile(
      join(dir, "w1-000001.jsonl"),
      `${repeated(T0 + 10)}\n${repeated(T0 + 5)}\n`,
    );
    const part = join(dir, "emit-000001.jsonl");
    await Deno.writeTextFile(part, line("acked", 1) + "\n");
    await Deno.mkdir(join(root, "events", ".pending"));
    await Deno.writeTextFile(
      join(root, "events", ".pending", `${DAY}__emit-000001.jsonl.size`),
      JSON.stringify({ size: (await Deno.stat(part)).size }),
    );
    await Deno.writeTextFile(part, `${line("dead", 2)}\n`, { append: true });

    const report = await verifyLog(root);
    assert.equal(report.totals.duplicateIds, 1);
    assert.equal(report.totals.events, 2);
    assert.deepEqual(report.days[0].eventsByType, { "run.started": 2 });
    assert.equal(report.totals.runs, 1, "the dead batch's run is not the log's");

    const indexed = await rebuildIndex(root, {});
    assert.equal(indexed.events, report.totals.events);
  });
});

Deno.test("verify reports a line a dead batch's marker cuts through as a torn tail, as the index does", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", `day=${DAY}`);
    await Deno.mkdir(dir, { recursive: true });
    // A part replaced under its marker's name (restored, copied by hand): the recorded size
    // falls inside its second line. The index reads the part up to that size.
    const first = line("acked", 1) + "\n";
    await Deno.writeTextFile(join(dir, "emit-000001.jsonl"), `${first}${line("acked", 2)}\n`);
    await Deno.mkdir(join(root, "events", ".pending"));
    await Deno.writeTextFile(
      join(root, "events", ".pending", `${DAY}__emit-000001.jsonl.size`),
      JSON.stringify({ size: first.length + 10 }),
    );

    const report = await verifyLog(root);
    assert.equal(report.totals.events, 1);
    assert.equal(report.totals.torn, 1);
    assert.deepEqual(report.days[0].torn.map((t) => `${t.file}:${t.line}`), [
      `day=${DAY}/emit-000001.jsonl:2`,
    ]);

    const indexed = await rebuildIndex(root, {});
    assert.equal(indexed.events, report.totals.events);
  });
});

// A soak audit: verify run while a large `emit --stdin` batch was being written called its live
// writer dead and said the next emit would remove the lines; the writer then acknowledged all.
Deno.test("verify tells a batch being written (its part locked) from a dead one", async () => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", `day=${DAY}`);
    await Deno.mkdir(dir, { recursive: true });
    const part = join(dir, "emit-000001.jsonl");
    await Deno.writeTextFile(part, line("acked", 1) + "\n");
    await Deno.mkdir(join(root, "events", ".pending"));
    await Deno.writeTextFile(
      join(root, "events", ".pending", `${DAY}__emit-000001.jsonl.size`),
      JSON.stringify({ size: (await Deno.stat(part)).size }),
    );
    await Deno.writeTextFile(part, `${line("batch", 2)}\n${line("batch", 3)}\n`, { append: true });
    // The batch's writer holds the part's lock while it appends (flock: a second open file
    // description conflicts, also in this process).
    const writer = await Deno.open(part, { read: true, write: true });
    try {
      await writer.lock(true);
      const live = await verifyLog(root);
      assert.equal(live.totals.events, 1);
      assert.deepEqual(
        live.warnings.filter((w) => w.includes("died")),
        [],
        live.warnings.join("\n"),
      );
      const said = live.warnings.filter((w) => w.includes("being written"));
      assert.equal(said.length, 2, live.warnings.join("\n"));
      assert.match(said[0], /not acknowledged yet whose part is locked now: being written/);
      assert.match(said[1], /^2 lines of a batch not acknowledged yet, not counted \(first at/);
    } finally {
      writer.close(); // the lock goes with it, as when a writer dies
    }
    const dead = await verifyLog(root);
    assert.equal(dead.totals.events, 1);
    assert.equal(dead.warnings.filter((w) => w.includes("whose writer died")).length, 2);
    assert.deepEqual(dead.warnings.filter((w) => w.includes("being written")), []);
  });
});
