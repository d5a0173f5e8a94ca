/**
 * Values the earlier Python tools write, read by every reader: `NaN` and
 * `Infinity` from `json.dumps` (issue 14.1) read as null and only warned
 * about; a config nested 10,000 deep (issue 19.9) is refused by `emit` with
 * the field named, and when already in a log it is one invalid line that no
 * reader crashes on. The log is written by the machine's python3.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { queryIndex, runLedger, withTempDir } from "../_helpers.ts";
import { readLog } from "../../ledger/reader.ts";
import { JSON_DEPTH_MAX } from "../../ledger/json_text.ts";

const T0 = Date.UTC(2026, 0, 20);

/** Python that writes `events` (JSON given on stdin) with json.dumps, one per line. */
const PYTHON_WRITER = `
import json, sys, os
root, name = sys.argv[1], sys.argv[2]
events = json.load(sys.stdin)
for e in events:
    for key, value in list(e.items()):
        if isinstance(value, dict):
            for k, v in list(value.items()):
                if v in ("nan", "inf", "-inf"):
                    value[k] = float(v)
    if e.get("deep"):
        depth = e.pop("deep")
        config = 1
        for _ in range(depth):
            config = {"a": config}
        e["config"] = config
day = "day=2026-01-20"
os.makedirs(os.path.join(root, "events", day), exist_ok=True)
sys.setrecursionlimit(50000)
with open(os.path.join(root, "events", day, name), "a") as f:
    for e in events:
        f.write(json.dumps(e) + "\\n")
`;

async function pythonWrite(root: string, name: string, events: unknown[]): Promise<void> {
  const child = new Deno.Command("python3", {
    args: ["-c", PYTHON_WRITER, root, name],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(events)));
  await writer.close();
  const out = await child.output();
  assert.ok(out.success, `python3 failed: ${new TextDecoder().decode(out.stderr)}`);
}

function ev(type: string, runId: string, i: number, fields: Record<string, unknown> = {}) {
  return {
    event_type: type,
    event_id: `${T0 + i}_${i.toString(16).padStart(8, "0")}`,
    timestamp_ms: T0 + i,
    run_id: runId,
    ...fields,
  };
}

const HAS_PYTHON = await (async () => {
  try {
    return (await new Deno.Command("python3", { args: ["--version"] }).output()).success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
})();
if (!HAS_PYTHON) console.log("python_values_test: ignored, no python3 on PATH");

Deno.test({
  name: "Python NaN/Infinity: events like any other, null in every reader, a verify warning",
  ignore: !HAS_PYTHON,
  fn: async (t) => {
    await withTempDir(async (root) => {
      await pythonWrite(root, "part-000001.jsonl", [
        ev("run.created", "py-nan", 0, {
          run_type: "policy",
          config: { stopPct: "nan" },
          data_fingerprint: "f",
        }),
        ev("run.started", "py-nan", 1),
        ev("phase.started", "py-nan", 2, { phase_name: "load", phase_order: 0 }),
        ev("phase.completed", "py-nan", 3, {
          phase_name: "load",
          duration_ms: 5,
          output_summary: { peak: "inf" },
        }),
        ev("trial.recorded", "py-nan", 4, {
          trial_id: "t1",
          params: { x: 1 },
          metrics: { sharpe: "nan", worst: "-inf" },
        }),
        ev("run.completed", "py-nan", 5, {
          summary: { sharpe: "nan", ok: 1 },
          artifact_paths: {},
        }),
      ]);
      const text = await Deno.readTextFile(join(root, "events/day=2026-01-20/part-000001.jsonl"));
      assert.match(text, /"sharpe": NaN/, "python3 wrote NaN");
      assert.match(text, /"worst": -Infinity/);

      await t.step("the reader reads them as events", async () => {
        const records = await Array.fromAsync(readLog(root));
        assert.deepEqual(records.map((r) => r.kind), Array(6).fill("event"));
        assert.deepEqual(
          records.map((r) => (r.kind === "event" ? r.nonFiniteCount : -1)),
          [1, 0, 0, 1, 2, 1],
        );
      });

      await t.step("rebuild, runs (table and --json), show --json", async () => {
        const rebuilt = await runLedger(["rebuild-index", "--root", root]);
        assert.equal(rebuilt.code, 0, rebuilt.stderr);
        assert.match(rebuilt.stdout, /Indexed 6 events of 1 runs/);
        const table = await runLedger(["runs", "--root", root]);
        assert.equal(table.code, 0, table.stderr);
        assert.match(table.stdout, /py-nan\s+policy\s+completed/);
        // config is not in the default rows (issue 19.11: only the columns asked for are read).
        const json = await runLedger(["runs", "--root", root, "--json", "--columns", "config"]);
        assert.equal(json.code, 0, json.stderr);
        const [run] = JSON.parse(json.stdout);
        assert.deepEqual(run.summary, { sharpe: null, ok: 1 });
        assert.deepEqual(run.config, { stopPct: null });
        const shown = await runLedger(["show", "py-nan", "--root", root, "--json"]);
        assert.equal(shown.code, 0, shown.stderr);
        const detail = JSON.stringify(JSON.parse(shown.stdout));
        assert.ok(detail.includes('"sharpe":null') && detail.includes('"worst":null'), detail);
        assert.ok(detail.includes('"peak":null'), detail);
        const plain = await runLedger(["show", "py-nan", "--root", root]);
        assert.equal(plain.code, 0, plain.stderr);
      });

      await t.step("verify: sound, with a warning", async () => {
        const verified = await runLedger(["verify", "--root", root]);
        assert.equal(verified.code, 0, verified.stdout);
        assert.match(
          verified.stdout,
          /warning: 4 events hold NaN or Infinity values, read as null \(first at day=2026-01-20\/part-000001\.jsonl:1\)/,
        );
        assert.match(verified.stdout, /^sound: /m);
      });
    });
  },
});

Deno.test({
  name: "deep nesting: emit names the field, readers survive a deep line in the log",
  ignore: !HAS_PYTHON,
  fn: async (t) => {
    await withTempDir(async (root) => {
      await t.step("emit refuses a config nested 10,000 deep, naming config", async () => {
        const config = '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000);
        const emitted = await runLedger([
          "emit",
          "--root",
          root,
          "--event-type",
          "run.created",
          "--run-id",
          "deep-1",
          "--run-type",
          "x",
          "--data-fingerprint",
          "f",
          "--config",
          config,
        ]);
        assert.equal(emitted.code, 1);
        assert.match(
          emitted.stderr,
          new RegExp(
            `config\\.a\\.a\\.a\\.\\.\\. \\(\\d+ levels\\) must be nested at most ${JSON_DEPTH_MAX}`,
          ),
        );
        assert.equal(emitted.stderr.trim().split("\n").length, 1, "one stderr line");
      });

      await pythonWrite(root, "part-000001.jsonl", [
        {
          ...ev("run.created", "deep-2", 0, { run_type: "x", data_fingerprint: "f" }),
          deep: 10_000,
        },
        ev("run.started", "deep-2", 1),
        ev("run.created", "flat", 2, { run_type: "x", config: {}, data_fingerprint: "f" }),
      ]);

      await t.step("rebuild, runs --json and show --json exit 0", async () => {
        const rebuilt = await runLedger(["rebuild-index", "--root", root]);
        assert.equal(rebuilt.code, 0, rebuilt.stderr);
        // config is not in the default rows (issue 19.11: only the columns asked for are read).
        const json = await runLedger(["runs", "--root", root, "--json", "--columns", "config"]);
        assert.equal(json.code, 0, json.stderr);
        assert.deepEqual(JSON.parse(json.stdout).map((r: { run_id: string }) => r.run_id).sort(), [
          "deep-2",
          "flat",
        ]);
        const shown = await runLedger(["show", "deep-2", "--root", root, "--json"]);
        assert.equal(shown.code, 0, shown.stderr);
      });

      await t.step(
        "verify and the index both call the line invalid, naming the depth",
        async () => {
          const verified = await runLedger(["verify", "--root", root]);
          assert.equal(verified.code, 1);
          assert.match(
            verified.stdout,
            /part-000001\.jsonl:1: invalid: nested 10001 levels deep \(at most 64\)/,
          );
          const errors = await queryIndex(
            join(root, "index", "runs.duckdb"),
            "SELECT file, line, reason FROM ingest_errors",
          );
          assert.deepEqual(errors, [{
            file: "day=2026-01-20/part-000001.jsonl",
            line: 1,
            reason: "nested 10001 levels deep (at most 64)",
          }]);
        },
      );
    });
  },
});
