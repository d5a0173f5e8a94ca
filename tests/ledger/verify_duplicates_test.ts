/**
 * `ledger verify` and repeated event ids (SPEC 7: an `event_id` seen twice
 * counts once). The per-type counts and the lifecycle checks count each id
 * once, at the line the indexer keeps (the smallest `(timestamp_ms, file,
 * line)`); the repeats are still listed, as problems, and the report says
 * whether a repeat holds the same event (apart from `timestamp_ms`: a
 * retry) or another event (a conflict).
 *
 * @module
 */
import { listParts } from "../../ledger/parts.ts";
import assert from "node:assert/strict";
import { join } from "node:path";
import { verifyLog } from "../../ledger/verify.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { queryIndex, runLedger, withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 20);

async function writeLines(root: string, file: string, lines: string[]): Promise<void> {
  const path = join(root, "events", file);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, lines.map((l) => l + "\n").join(""), { append: true });
}

const created = (id: string, runId: string, at: number) =>
  JSON.stringify({
    event_type: "run.created",
    event_id: id,
    timestamp_ms: at,
    run_id: runId,
    run_type: "x",
    config: {},
    data_fingerprint: "f",
  });

const completed = (id: string, runId: string, at: number) =>
  JSON.stringify({
    event_type: "run.completed",
    event_id: id,
    timestamp_ms: at,
    run_id: runId,
    summary: {},
    artifact_paths: {},
  });

Deno.test("verify: a repeated event id counts once in the per-type counts and lifecycle checks", async (t) => {
  await withTempDir(async (root) => {
    // The audit's case: the same run.completed in two files of one day.
    await writeLines(root, "day=2026-01-20/one.jsonl", [
      created("e1", "a", T0),
      completed("e2", "a", T0 + 5),
    ]);
    await writeLines(root, "day=2026-01-20/two.jsonl", [completed("e2", "a", T0 + 5)]);

    await t.step("library report", async () => {
      const report = await verifyLog(root);
      const [day] = report.days;
      assert.equal(day.events, 2, "each event id once, as in the index (3 lines hold events)");
      assert.deepEqual(day.eventsByType, { "run.created": 1, "run.completed": 1 });
      assert.equal(day.duplicateEvents, 1);
      assert.ok(
        !report.warnings.some((w) => w.includes("run.completed events")),
        report.warnings.join("\n"),
      );
      assert.deepEqual(report.duplicates, [{
        eventId: "e2",
        occurrences: [
          { file: "day=2026-01-20/one.jsonl", line: 2 },
          { file: "day=2026-01-20/two.jsonl", line: 1 },
        ],
        counted: { file: "day=2026-01-20/one.jsonl", line: 2 },
        sameEvent: true,
      }]);
    });

    await t.step("--json", async () => {
      const r = await runLedger(["verify", "--root", root, "--json"]);
      const report = JSON.parse(r.stdout);
      assert.deepEqual(report.days[0].events_by_type, { "run.created": 1, "run.completed": 1 });
      assert.equal(report.days[0].duplicate_events, 1);
      assert.equal(report.totals.duplicate_ids, 1);
    });
  });
});

Deno.test("verify: when a later line wins an id, the counts follow it, as in the index", async () => {
  await withTempDir(async (root) => {
    // Id x: first read as a phase.completed without its start (a lifecycle
    // problem if it counted), then in the next day's file as a trial with a
    // smaller timestamp_ms, which wins.
    await writeLines(root, "day=2026-01-20/part-a.jsonl", [
      created("c", "r", T0),
      JSON.stringify({
        event_type: "phase.completed",
        event_id: "x",
        timestamp_ms: T0 + 10,
        run_id: "r",
        phase_name: "load",
        duration_ms: 1,
        output_summary: {},
      }),
    ]);
    await writeLines(root, "day=2026-01-21/part-b.jsonl", [
      JSON.stringify({
        event_type: "trial.recorded",
        event_id: "x",
        timestamp_ms: T0 + 5,
        run_id: "r",
        trial_id: "t1",
        params: {},
        metrics: {},
      }),
    ]);
    const report = await verifyLog(root);
    assert.deepEqual(report.days.map((d) => [d.day, d.eventsByType, d.duplicateEvents]), [
      ["2026-01-20", { "run.created": 1 }, 1],
      ["2026-01-21", { "trial.recorded": 1 }, 0],
    ]);
    assert.deepEqual(report.lifecycle, [], "the losing phase.completed is not checked");
    assert.equal(report.duplicates[0].sameEvent, false);
    assert.deepEqual(report.duplicates[0].counted, {
      file: "day=2026-01-21/part-b.jsonl",
      line: 1,
    });
    assert.equal(report.totals.conflictingIds, 1);
    assert.equal(report.problems, 1, "the conflict is the one problem");

    await rebuildIndex(root, { full: true });
    const rows = await queryIndex(
      indexPath(root),
      "SELECT event_type, file, line FROM events WHERE event_id = 'x'",
    );
    assert.deepEqual(rows, [{
      event_type: "trial.recorded",
      file: "day=2026-01-21/part-b.jsonl",
      line: 1,
    }]);
  });
});

Deno.test("verify: a repeat of the same event is told as a retry, another event as a conflict", async (t) => {
  await withTempDir(async (dir) => {
    await t.step(
      "a retried emit's line written twice (an older ledger, another writer): a retry, exit 1",
      async () => {
        const root = join(dir, "retry");
        const emit = [
          "emit",
          "--root",
          root,
          "--event-type",
          "run.created",
          "--run-id",
          "a1",
          "--run-type",
          "x",
          "--config",
          "{}",
          "--data-fingerprint",
          "f",
          "--event-id",
          "e-1",
        ];
        const first = await runLedger(emit);
        assert.equal(first.code, 0, first.stderr);
        // emit writes nothing for the same event again (a retry); a writer
        // that does not look (an older ledger) appends the line once more.
        const [part] = await listParts(root);
        const line = (await Deno.readTextFile(part.path)).split("\n")[0];
        await Deno.writeTextFile(part.path, `${line}\n`, { append: true });
        const r = await runLedger(["verify", "--root", root]);
        assert.equal(r.code, 1, r.stdout);
        assert.match(
          r.stdout,
          /^duplicate event id e-1: .*:1, .*:2 \(the same event again, a retry/m,
        );
        assert.match(r.stdout, /\(run\.created 1; 1 duplicate\)/);
        assert.match(r.stdout, /^NOT SOUND: 1 problem \(1 duplicate event id\)/m);
      },
    );

    await t.step("the same JSON written another way (key order, 1.0): the same event", async () => {
      const root = join(dir, "same-json");
      await writeLines(root, "day=2026-01-20/part-a.jsonl", [created("e1", "a", T0)]);
      await writeLines(root, "day=2026-01-20/part-b.jsonl", [
        `{"run_id":"a","event_id":"e1","event_type":"run.created","timestamp_ms":${T0}.0,` +
        `"data_fingerprint":"f","config":{},"run_type":"x","schema_version":1}`,
      ]);
      const report = await verifyLog(root);
      assert.equal(report.duplicates[0].sameEvent, true);
      assert.deepEqual([report.totals.conflictingIds, report.problems], [0, 1]);
    });

    await t.step("the same id on another event: a conflict, exit 1", async () => {
      const root = join(dir, "conflict");
      await writeLines(root, "day=2026-01-20/part-a.jsonl", [created("e1", "a", T0)]);
      await writeLines(root, "day=2026-01-20/part-b.jsonl", [
        created("e1", "a", T0).replace('"run_type":"x"', '"run_type":"y"'),
      ]);
      const report = await verifyLog(root);
      assert.deepEqual(
        [report.totals.duplicateIds, report.totals.conflictingIds, report.problems],
        [1, 1, 1],
      );
      const r = await runLedger(["verify", "--root", root]);
      assert.equal(r.code, 1, r.stdout);
      assert.match(
        r.stdout,
        /^duplicate event id e1: .* \(a conflict, the lines differ: day=2026-01-20\/part-a\.jsonl:1 counts\)$/m,
      );
      assert.match(r.stdout, /^NOT SOUND: 1 problem \(1 duplicate event id\)/m);
    });
  });
});
