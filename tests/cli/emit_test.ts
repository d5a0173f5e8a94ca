import assert from "node:assert/strict";
import { join } from "node:path";
import { readLog } from "../../ledger/reader.ts";
import type { LedgerEvent } from "../../ledger/events.ts";
import { UUID_V7_PATTERN } from "../../ledger/ids.ts";
import { hashTree, REPO_ROOT, runDeno, withTempDir } from "../ledger/_helpers.ts";
import { DENO_RUN, logText } from "../_helpers.ts";

const CLI = join(REPO_ROOT, "cli/ledger.ts");

/** `ledger emit` with broad permissions and an explicit root. */
function emit(root: string, args: string[], stdin?: string) {
  return runDeno([
    ...DENO_RUN,
    "--allow-read",
    "--allow-write",
    "--allow-env",
    CLI,
    "emit",
    "--root",
    root,
    ...args,
  ], { stdin });
}

async function events(root: string): Promise<LedgerEvent[]> {
  const out: LedgerEvent[] = [];
  for await (const r of readLog(root)) {
    assert.equal(r.kind, "event");
    if (r.kind === "event") out.push(r.event);
  }
  return out;
}

/** A JSON typo on the third of four lines (`abc` at line 3, column 13). */
const MULTI_LINE_TYPO = '{\n "type": "fixed_stop",\n "stopPct": abc\n}';

const RUN_CREATED = [
  "--event-type",
  "run.created",
  "--run-id",
  "test-123",
  "--run-type",
  "baseline",
  "--config",
  "{}",
  "--data-fingerprint",
  "test-fp",
];

Deno.test("ledger emit: the earlier emit_event.py command line works under the task's permissions", async () => {
  await withTempDir(async (cwd) => {
    await Deno.mkdir(join(cwd, "data"));
    const child = new Deno.Command(Deno.execPath(), {
      // exactly the permissions of `deno task emit`; the root defaults to data/ledger
      args: [
        ...DENO_RUN,
        "--allow-read=data",
        "--allow-write=data",
        "--allow-env=LEDGER_ROOT",
        CLI,
        "emit",
        ...RUN_CREATED,
      ],
      cwd,
      env: { LEDGER_ROOT: "" },
      stdout: "piped",
      stderr: "piped",
    });
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const id = new TextDecoder().decode(out.stdout).trim();
    assert.match(id, UUID_V7_PATTERN);
    const [event] = await events(join(cwd, "data/ledger"));
    assert.equal(event.event_id, id);
    assert.ok(event.event_type === "run.created");
    assert.deepEqual(event.config, {});
    assert.equal(event.data_fingerprint, "test-fp");
  });
});

Deno.test("ledger emit: a new root under permissions scoped to that root alone", async () => {
  await withTempDir(async (dir) => {
    // The parent of the new root is outside the read scope, so it cannot be
    // opened for fsync: the first emit must still create the root and succeed.
    const root = join(dir, "fresh-root");
    const r = await runDeno([
      ...DENO_RUN,
      `--allow-read=${root}`,
      `--allow-write=${root}`,
      "--allow-env=LEDGER_ROOT",
      CLI,
      "emit",
      "--root",
      root,
      ...RUN_CREATED,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const [event] = await events(root);
    assert.equal(event.event_id, r.stdout.trim());
  });
});

Deno.test("ledger emit: type flags, --event and --stdin write what they say", async (t) => {
  await withTempDir(async (root) => {
    await t.step("type flags with numbers, JSON and backfill envelope", async () => {
      const r = await emit(root, [
        "--event-type",
        "phase.completed",
        "--run-id",
        "r1",
        "--phase-name",
        "load",
        "--duration-ms",
        "42",
        "--output-summary",
        '{"rows":3}',
        "--event-id",
        "1768867200000_a1b2c3d4",
        "--timestamp-ms",
        "1768867200000",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "1768867200000_a1b2c3d4\n");
    });
    await t.step("run.started with --host and --pid", async () => {
      const r = await emit(root, [
        "--event-type",
        "run.started",
        "--run-id",
        "r1",
        "--host",
        "h",
        "--pid",
        "7",
      ]);
      assert.equal(r.code, 0, r.stderr);
    });
    await t.step("--event", async () => {
      const r = await emit(root, [
        "--event",
        JSON.stringify({
          event_type: "run.failed",
          run_id: "r1",
          error: { message: "x", code: 1 },
        }),
      ]);
      assert.equal(r.code, 0, r.stderr);
    });
    await t.step("--stdin batch prints one id per line", async () => {
      const lines = [
        JSON.stringify({
          event_type: "trial.recorded",
          run_id: "r2",
          trial_id: "t1",
          params: {},
          metrics: {},
        }),
        "",
        JSON.stringify({
          event_type: "run.completed",
          run_id: "r2",
          summary: {},
          artifact_paths: {},
        }),
      ];
      const r = await emit(root, ["--stdin"], lines.join("\n") + "\n");
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split("\n").length, 2);
    });
    const logged = await events(root);
    assert.deepEqual(logged.map((e) => e.event_type), [
      "phase.completed",
      "run.started",
      "run.failed",
      "trial.recorded",
      "run.completed",
    ]);
    const completed = logged[0];
    assert.ok(completed.event_type === "phase.completed");
    assert.equal(completed.duration_ms, 42);
    assert.deepEqual(completed.output_summary, { rows: 3 });
    assert.equal(completed.timestamp_ms, 1768867200000);
    const started = logged[1];
    assert.ok(started.event_type === "run.started");
    assert.equal(started.host, "h");
    assert.equal(started.pid, 7);
  });
});

Deno.test("ledger emit: a repeated top-level key keeps its first value, as readers read it", async () => {
  await withTempDir(async (root) => {
    // docs/EVENTS.md rule 6: the log's readers take the first value; JSON.parse the last.
    const stdin = [
      '{"event_type":"run.created","run_id":"first","run_type":"x","config":{},' +
      '"data_fingerprint":"f","run_id":"second"}',
      '{"event_type":"run.started","event_id":"ev-kept","run_id":"first","event_id":null}',
    ].join("\n") + "\n";
    let r = await emit(root, ["--stdin"], stdin);
    assert.equal(r.code, 0, r.stderr);
    r = await emit(root, [
      "--event",
      '{"event_type":"run.noted","run_id":"first","note":"a","note":"b"}',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const logged = await events(root);
    assert.deepEqual(logged.map((e) => [e.event_type, e.run_id]), [
      ["run.created", "first"],
      ["run.started", "first"],
      ["run.noted", "first"],
    ]);
    assert.equal(logged[1].event_id, "ev-kept");
    assert.equal((logged[2] as Record<string, unknown>).note, "a");
  });
});

Deno.test("ledger emit: run type path-only is written as given, with a warning", async () => {
  await withTempDir(async (root) => {
    const r = await emit(root, [
      ...["--event-type", "run.created", "--run-id", "sp1", "--run-type", "path-only"],
      ...["--config", "{}", "--data-fingerprint", "f"],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stderr,
      /warning: run sp1 has run_type "path-only"; backtests record "path_only"/,
    );
    const c = await emit(root, [
      ...["--event-type", "run.created", "--run-id", "c1", "--run-type", "constructor"],
      ...["--config", "{}", "--data-fingerprint", "f"],
    ]);
    assert.equal(c.stderr, "", "no warning for another type");
    assert.deepEqual((await events(root)).map((e) => (e as { run_type?: string }).run_type), [
      "path-only",
      "constructor",
    ]);
  });
});

Deno.test("ledger emit: Python's NaN, Infinity and -Infinity read as null (SPEC 3)", async (t) => {
  await withTempDir(async (root) => {
    // What Python's json.dumps writes for non-finite floats, as quantBot pipes it in.
    await t.step("--stdin", async () => {
      const stdin = [
        '{"event_type": "trial.recorded", "run_id": "py1", "trial_id": "t1", ' +
        '"params": {"x": 1}, "metrics": {"sharpe": NaN, "worst": -Infinity}}',
        '{"event_type": "run.completed", "run_id": "py1", "summary": {"sharpe": NaN, ' +
        '"peak": Infinity, "ok": 1}, "artifact_paths": {}}',
      ].join("\n") + "\n";
      const r = await emit(root, ["--stdin"], stdin);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim().split("\n").length, 2);
    });
    await t.step("--event", async () => {
      const r = await emit(root, [
        "--event",
        '{"event_type":"run.started","run_id":"py1","pid":NaN,"extra":{"v":-Infinity}}',
      ]);
      assert.equal(r.code, 0, r.stderr);
    });
    await t.step("JSON-valued flags", async () => {
      const r = await emit(root, [
        "--event-type",
        "trial.recorded",
        "--run-id",
        "py1",
        "--trial-id",
        "t2",
        "--params",
        '{"stop": Infinity}',
        "--metrics",
        '{"sharpe": NaN}',
      ]);
      assert.equal(r.code, 0, r.stderr);
    });
    const logged = await events(root);
    assert.deepEqual(logged.map((e) => [e.event_type, e.run_id]), [
      ["trial.recorded", "py1"],
      ["run.completed", "py1"],
      ["run.started", "py1"],
      ["trial.recorded", "py1"],
    ]);
    const [trial, completed, started, flagged] = logged as unknown as Record<string, unknown>[];
    assert.deepEqual(trial.metrics, { sharpe: null, worst: null });
    assert.deepEqual(completed.summary, { sharpe: null, peak: null, ok: 1 });
    assert.equal("pid" in started, false, "NaN in an optional field: absent, like null");
    assert.deepEqual(started.extra, { v: null });
    assert.deepEqual(flagged.params, { stop: null });
    assert.deepEqual(flagged.metrics, { sharpe: null });
    // The lines written are strict JSON: JSON.parse reads every one.
    for await (const entry of Deno.readDir(join(root, "events"))) {
      if (!entry.isDirectory) continue;
      for await (const part of Deno.readDir(join(root, "events", entry.name))) {
        const text = await Deno.readTextFile(join(root, "events", entry.name, part.name));
        assert.doesNotMatch(text, /NaN|Infinity/);
        for (const l of text.trimEnd().split("\n")) JSON.parse(l);
      }
    }
  });
});

interface BadCase {
  name: string;
  args: string[];
  stdin?: string;
  code: 1 | 2;
  stderr: RegExp;
}

const line = (event: Record<string, unknown>) => JSON.stringify(event);
const goodLine = line({ event_type: "run.started", run_id: "ok" });

const BAD_CASES: BadCase[] = [
  {
    name: "unknown event type",
    args: ["--event-type", "run.exploded", "--run-id", "r"],
    code: 1,
    stderr: /unknown event_type "run\.exploded" \(expected one of: run\.created, /,
  },
  {
    name: "missing field",
    args: RUN_CREATED.filter((a, i, all) => a !== "--config" && all[i - 1] !== "--config"),
    code: 1,
    stderr: /run\.created: config is required/,
  },
  {
    name: "wrong type",
    args: [
      "--event-type",
      "phase.completed",
      "--run-id",
      "r",
      "--phase-name",
      "p",
      "--duration-ms",
      "abc",
      "--output-summary",
      "{}",
    ],
    code: 1,
    stderr: /phase\.completed: duration_ms must be an integer >= 0, got "abc"/,
  },
  {
    name: "negative number",
    args: [
      "--event-type",
      "artifact.created",
      "--run-id",
      "r",
      "--artifact-type",
      "a",
      "--artifact-path",
      "p",
      "--size-bytes",
      "-5",
    ],
    code: 1,
    stderr: /artifact\.created: size_bytes must be an integer >= 0, got -5/,
  },
  {
    name: "integer past 2^53 named as typed",
    args: [
      ...["--event-type", "artifact.created", "--run-id", "r", "--artifact-type", "a"],
      ...["--artifact-path", "p", "--size-bytes", "99999999999999999999"],
    ],
    code: 1,
    stderr:
      /size_bytes must be an integer >= 0, at most 9007199254740991, got "99999999999999999999"/,
  },
  {
    name: "fractional number",
    args: [
      "--event-type",
      "phase.started",
      "--run-id",
      "r",
      "--phase-name",
      "p",
      "--phase-order",
      "1.5",
    ],
    code: 1,
    stderr: /phase_order must be an integer >= 0, got 1\.5/,
  },
  {
    name: "broken JSON flag",
    args: RUN_CREATED.map((a) => a === "{}" ? "{bad" : a),
    code: 1,
    stderr: /run\.created: --config must be valid JSON, got "\{bad"/,
  },
  {
    // V8's message quotes the text with its newlines: it was cut at the first one.
    name: "broken JSON flag over several lines: one line with the position",
    args: RUN_CREATED.map((a) => a === "{}" ? MULTI_LINE_TYPO : a),
    code: 1,
    stderr:
      /^ledger emit: run\.created: --config must be valid JSON, got ".*" \(Unexpected token 'a', .*"stopPct": abc }" is not valid JSON at line 3 column 13\)$/,
  },
  {
    name: "--event over several lines, not JSON: one line with the position",
    args: ["--event", MULTI_LINE_TYPO],
    code: 1,
    stderr:
      /^ledger emit: --event is not valid JSON: Unexpected token 'a', .* at line 3 column 13$/,
  },
  {
    name: "non-object config",
    args: RUN_CREATED.map((a) => a === "{}" ? "[]" : a),
    code: 1,
    stderr: /run\.created: config must be an object, got \[\]/,
  },
  {
    name: "path-like run id ../x",
    args: RUN_CREATED.map((a) => a === "test-123" ? "../x" : a),
    code: 1,
    stderr: /run_id must be a string matching .*, got "\.\.\/x"/,
  },
  {
    name: "path-like run id a/b",
    args: RUN_CREATED.map((a) => a === "test-123" ? "a/b" : a),
    code: 1,
    stderr: /run_id must be a string matching .*, got "a\/b"/,
  },
  {
    name: "empty run id",
    args: RUN_CREATED.map((a) => a === "test-123" ? "" : a),
    code: 1,
    stderr: /run_id must be a string matching .*, got ""/,
  },
  {
    name: "run.failed without error.message",
    args: ["--event", line({ event_type: "run.failed", run_id: "r", error: {} })],
    code: 1,
    stderr: /run\.failed: error\.message is required/,
  },
  {
    name: "artifact_paths not strings",
    args: [
      "--event-type",
      "run.completed",
      "--run-id",
      "r",
      "--summary",
      "{}",
      "--artifact-paths",
      '{"a":1}',
    ],
    code: 1,
    stderr: /artifact_paths\.a must be a string, got 1/,
  },
  {
    name: "bare NaN in a required integer (--event)",
    args: [
      "--event",
      '{"event_type":"phase.started","run_id":"r","phase_name":"p","phase_order":NaN}',
    ],
    code: 1,
    stderr: /^ledger emit: phase\.started: phase_order must be an integer >= 0, got null$/,
  },
  {
    name: "bare Infinity in a required integer (--stdin)",
    args: ["--stdin"],
    stdin: goodLine + "\n" +
      '{"event_type":"baseline.completed","run_id":"r","alerts_total":Infinity,' +
      '"alerts_ok":1,"artifact_path":"a"}\n',
    code: 1,
    stderr: /^ledger emit: line 2: baseline\.completed: alerts_total must be an integer/,
  },
  {
    name: "--event not JSON",
    args: ["--event", "{nope"],
    code: 1,
    stderr: /--event is not valid JSON/,
  },
  {
    name: "oversize event",
    args: ["--stdin"],
    stdin: line({
      event_type: "trial.recorded",
      run_id: "r",
      trial_id: "t",
      params: { blob: "x".repeat(1_100_000) },
      metrics: {},
    }) + "\n",
    code: 1,
    stderr: /line 1: trial\.recorded: event is too large: \d+ bytes, limit 1048576 bytes/,
  },
  {
    name: "batch with one bad line",
    args: ["--stdin"],
    stdin: [
      goodLine,
      goodLine,
      line({ event_type: "phase.started", run_id: "r", phase_name: "p", phase_order: -1 }),
      goodLine,
    ].join("\n"),
    code: 1,
    stderr: /^ledger emit: line 3: phase\.started: phase_order must be an integer >= 0, got -1$/,
  },
  {
    name: "batch with several bad lines: the first said, the others counted and named",
    args: ["--stdin"],
    stdin: [
      goodLine,
      line({ event_type: "phase.started", run_id: "r", phase_name: "p", phase_order: -1 }),
      ...Array.from({ length: 9 }, (_, i) => i % 2 === 0 ? "{oops" : goodLine),
      line({ event_type: "run.started", run_id: "" }),
    ].join("\n"),
    code: 1,
    stderr: new RegExp(
      "^ledger emit: line 2: phase\\.started: phase_order must be an integer >= 0, got -1 " +
        "\\(6 more bad lines: 3, 5, 7, 9, 11, \\.\\.\\.\\)$",
    ),
  },
  {
    name: "batch with broken JSON",
    args: ["--stdin"],
    stdin: [goodLine, "{oops"].join("\n"),
    code: 1,
    stderr: /line 2: the line is not valid JSON/,
  },
  {
    name: "unknown schema version",
    args: ["--event", line({ event_type: "run.started", run_id: "r", schema_version: 9 })],
    code: 1,
    stderr: /schema_version must be one of 1, got 9/,
  },
  {
    name: "unknown flag",
    args: ["--event-type", "run.started", "--run-id", "r", "--bogus", "1"],
    code: 2,
    stderr: /--bogus/,
  },
  {
    name: "missing --event-type",
    args: ["--run-id", "r"],
    code: 2,
    stderr: /missing --event-type/,
  },
  {
    name: "--event with type flags",
    args: ["--event", goodLine, "--run-id", "r"],
    code: 2,
    stderr: /--event cannot be combined with --run-id/,
  },
];

Deno.test("ledger emit: bad input exits non-zero, names the problem, writes nothing", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const seeded = await emit(root, RUN_CREATED);
    assert.equal(seeded.code, 0, seeded.stderr);
    const before = await hashTree(root);
    const fresh = join(dir, "fresh"); // a root that does not exist yet must stay absent
    for (const bad of BAD_CASES) {
      await t.step(bad.name, async () => {
        for (const target of [root, fresh]) {
          const r = await emit(target, bad.args, bad.stdin);
          assert.equal(r.code, bad.code, `exit code; stderr: ${r.stderr}`);
          assert.equal(r.stdout, "");
          assert.equal(r.stderr.trimEnd().split("\n").length, 1, `one line: ${r.stderr}`);
          assert.match(r.stderr.trimEnd(), bad.stderr);
        }
        assert.equal(await hashTree(root), before, "the log is byte-for-byte unchanged");
        assert.equal(await hashTree(fresh), "missing", "no directory was created");
      });
    }
  });
});

Deno.test("emit keeps integers past 2^53 digit for digit (flags, --event, --stdin)", async () => {
  // JSON.parse rounds 9007199254740993 to ...992, and the log is immutable: a 64-bit seed
  // emitted from a shell was wrong for good, while INDEX.md promises the digits in every read.
  await withTempDir(async (root) => {
    const created = await emit(root, [
      ...["--event-type", "run.created", "--run-id", "big", "--run-type", "t"],
      ...["--config", '{"seed":9007199254740993,"xs":[-12345678901234567891,1.5]}'],
      ...["--data-fingerprint", "f"],
    ]);
    assert.equal(created.code, 0, created.stderr);
    const event = await emit(root, [
      "--event",
      '{"event_type":"trial.recorded","run_id":"big","trial_id":"a",' +
      '"params":{"seed":9007199254740995},"metrics":{}}',
    ]);
    assert.equal(event.code, 0, event.stderr);
    const line = '{"event_type":"trial.recorded","run_id":"big","trial_id":"b",' +
      '"params":{},"metrics":{"n":18446744073709551615}}';
    const batch = await emit(root, ["--stdin"], line + "\n");
    assert.equal(batch.code, 0, batch.stderr);
    const text = await logText(root);
    for (const digits of ["9007199254740993", "-12345678901234567891", "9007199254740995"]) {
      assert(text.includes(digits), `${digits} in the log`);
    }
    assert(text.includes('"n":18446744073709551615'), text);
    // A field of the envelope past 2^53 is refused, not rounded.
    const refused = await emit(root, [
      "--event",
      '{"event_type":"run.started","run_id":"big","pid":9007199254740993}',
    ]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.match(
      refused.stderr,
      /pid must be an integer >= 0, at most 9007199254740991, got 9007199254740993/,
    );
    // The largest count kept exactly is taken; one more is said to be too large, not "not >= 0".
    const artifact = (size: string) =>
      emit(root, [
        ...["--event-type", "artifact.created", "--run-id", "big", "--artifact-type", "a"],
        ...["--artifact-path", "p", "--size-bytes", size],
      ]);
    const largest = await artifact("9007199254740991");
    assert.equal(largest.code, 0, largest.stderr);
    const past = await artifact("9007199254740992");
    assert.equal(past.code, 1, past.stderr);
    assert.match(past.stderr, /size_bytes must be an integer >= 0, at most 9007199254740991, got/);
    // Written with an exponent or a fraction of zeros, the same (helper-297).
    for (const typed of ["1e16", "9007199254740992.0"]) {
      const r = await artifact(typed);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /size_bytes must be an integer >= 0, at most 9007199254740991, got/);
    }
  });
});

// helper-295: an integer field written -0 (as Python's json writes a negative zero int) was
// refused by --event and --stdin ("must be an integer >= 0, got -0"), where the index and verify
// read it as 0 and --phase-order=-0 was taken.
Deno.test("emit takes an integer field written -0 as 0, as the index reads it", async () => {
  await withTempDir(async (root) => {
    const event = await emit(root, [
      "--event",
      '{"event_type":"phase.started","run_id":"z","phase_name":"p","phase_order":-0}',
    ]);
    assert.equal(event.code, 0, event.stderr);
    const line = '{"event_type":"artifact.created","run_id":"z","artifact_type":"a",' +
      '"artifact_path":"/p","size_bytes":-0}';
    const batch = await emit(root, ["--stdin"], line + "\n");
    assert.equal(batch.code, 0, batch.stderr);
    const text = await logText(root);
    assert.match(text, /"phase_order":0[,}]/);
    assert.match(text, /"size_bytes":0[,}]/);
  });
});
