import { match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { RUN_ID_PATTERN } from "../../ledger/ids.ts";
import { hashTree, runLedger, withTempDir } from "../_helpers.ts";

// Issue 15.1: emit accepted events for a run it had never seen, silently, and
// `ledger verify` then reported a broken lifecycle forever. It still writes
// them (the log takes any order) but warns on stderr after the ids.
Deno.test("ledger emit: an event for a run without run.created is written with a warning", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-emit-unknown-" });
  try {
    await t.step("a run the log has never seen: id printed, one warning line", async () => {
      const r = await runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.started",
        "--run-id",
        "lonely",
      ]);
      equal(r.code, 0, r.stderr);
      equal(r.stdout.trim().split("\n").length, 1);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      match(r.stderr, /warning: run lonely has no run\.created/);
    });
    await t.step("run.created first (or in the same batch): no warning", async () => {
      const created = await runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.created",
        "--run-id",
        "known",
        "--run-type",
        "policy",
        "--config",
        "{}",
        "--data-fingerprint",
        "fp",
      ]);
      equal(created.code, 0, created.stderr);
      const started = await runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.started",
        "--run-id",
        "known",
      ]);
      equal(started.code, 0, started.stderr);
      equal(started.stderr, "");
      const batch = [
        '{"event_type":"run.created","run_id":"b1","run_type":"policy","config":{},"data_fingerprint":"f"}',
        '{"event_type":"run.started","run_id":"b1"}',
      ].join("\n");
      const r = await runLedger(["emit", "--root", root, "--stdin"], { stdin: batch + "\n" });
      equal(r.code, 0, r.stderr);
      equal(r.stderr, "");
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A probe: an annotation of a run id no new event may have (`../../etc/passwd`, a blank, a tab)
// was written with a warning though the log held no such run. The exception to SPEC 4's pattern
// is for an older writer's runs, which the log holds.
Deno.test("ledger emit: an annotation names an id off the pattern only for a run the log holds", async (t) => {
  await withTempDir(async (root) => {
    const emit = (args: string[], stdin?: string) =>
      runLedger(["emit", "--root", root, ...args], stdin === undefined ? {} : { stdin });
    await t.step("of no run in the log: exit 1, one line naming it, nothing written", async () => {
      const before = await hashTree(root);
      for (const runId of ["../../etc/passwd", " ", "a\tb"]) {
        const r = await emit(["--event-type", "run.noted", "--run-id", runId, "--note", "x"]);
        equal(r.code, 1, r.stderr);
        equal(r.stdout, "");
        equal(
          r.stderr,
          `ledger emit: run.noted: run_id must be a string matching ${RUN_ID_PATTERN.source}, ` +
            `got ${JSON.stringify(runId)} (an annotation may name another writer's run by such ` +
            "an id only when the log holds its run.created)\n",
        );
      }
      const batch = '{"event_type":"run.tagged","run_id":"fine","tags":{}}\n' +
        '{"event_type":"run.archived","run_id":"py run 9"}\n';
      const r = await emit(["--stdin"], batch);
      equal(r.code, 1, r.stderr);
      match(r.stderr, /^ledger emit: line 2: run\.archived: run_id must be /);
      equal(await hashTree(root), before);
    });
    await t.step("of the Python tools' run the log holds: written", async () => {
      const day = join(root, "events", "day=2026-01-10");
      await Deno.mkdir(day, { recursive: true });
      const created = {
        event_type: "run.created",
        event_id: "1768003200000_ab",
        timestamp_ms: Date.UTC(2026, 0, 10),
        run_id: "py run 2",
        run_type: "baseline",
        config: {},
        data_fingerprint: "f",
      };
      await Deno.writeTextFile(join(day, "part-000001.jsonl"), JSON.stringify(created) + "\n");
      for (const type of ["run.noted", "run.archived"]) {
        const extra = type === "run.noted" ? ["--note", "kept"] : [];
        const r = await emit(["--event-type", type, "--run-id", "py run 2", ...extra]);
        equal(r.code, 0, r.stderr);
        equal(r.stderr, "");
      }
    });
  });
});
