import { match, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";

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
