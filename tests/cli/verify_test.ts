import assert from "node:assert/strict";
import { join } from "node:path";
import { openWriter } from "../../ledger/writer.ts";
import { verifyLog } from "../../ledger/verify.ts";
import { hashTree, runLedger, withTempDir } from "../_helpers.ts";
import { PYTHON_LINES, sampleInputs } from "../ledger/_helpers.ts";

const DAY = "day=2026-01-20";
const T0 = Date.UTC(2026, 0, 20);

async function writeLines(root: string, file: string, text: string): Promise<string> {
  const path = join(root, "events", file);
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeTextFile(path, text, { append: true });
  return path;
}

function line(event: Record<string, unknown>): string {
  return JSON.stringify(event) + "\n";
}

let seq = 0;
function ev(type: string, runId: string, fields: Record<string, unknown> = {}) {
  seq += 1;
  return {
    event_type: type,
    event_id: `ev-${seq}`,
    timestamp_ms: T0 + seq,
    run_id: runId,
    ...fields,
  };
}

Deno.test("ledger verify: a log written by the writer is sound and is not touched", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    await writer.appendBatch(sampleInputs("run-1").slice(0, 8)); // up to run.completed
    await writer.close();
    const before = await hashTree(root);
    const r = await runLedger(["verify", "--root", root]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^day=\d{4}-\d{2}-\d{2}: 1 file, 8 lines, 8 events \(run\.created 1, /m);
    assert.match(r.stdout, /^sound: 1 day, 1 file, 8 events, 1 run$/m);
    assert.equal(await hashTree(root), before, "verify changed nothing");
  });
});

Deno.test("ledger verify: lines of the earlier Python writer are valid events", async () => {
  await withTempDir(async (root) => {
    await writeLines(root, `${DAY}/part-000001.jsonl`, PYTHON_LINES.join("\n") + "\n");
    const report = await verifyLog(root);
    assert.equal(report.totals.events, 3);
    assert.equal(report.totals.invalid, 0);
    // the fixture's phase.completed has no phase.started: the one problem
    assert.deepEqual(report.lifecycle.map((l) => l.reason), [
      'phase.completed of phase "load" without its phase.started',
    ]);
  });
});

Deno.test("ledger verify: finds torn tails, invalid lines, duplicate ids and impossible lifecycles", async (t) => {
  await withTempDir(async (root) => {
    const created = ev("run.created", "ok", { run_type: "x", config: {}, data_fingerprint: "f" });
    const started = ev("phase.started", "ok", { phase_name: "load", phase_order: 0 });
    await writeLines(
      root,
      `${DAY}/part-a.jsonl`,
      line(created) + line(started) + "not json\n" + '{"event_type":"run.st',
    );
    await writeLines(
      root,
      `${DAY}/part-b.jsonl`,
      line({ ...created, run_type: "y" }) + // same id as in part-a, another event: a conflict
        line(ev("run.completed", "orphan", { summary: {}, artifact_paths: {} })) +
        line(
          ev("phase.completed", "ok", { phase_name: "plan", duration_ms: 1, output_summary: {} }),
        ) +
        "\n",
    );
    await Deno.writeTextFile(join(root, "events", "notes.txt"), "hello");

    await t.step("library report", async () => {
      const report = await verifyLog(root);
      assert.equal(report.sound, false);
      assert.deepEqual(report.totals, {
        days: 1,
        files: 2,
        bytes: report.totals.bytes,
        lines: 8,
        events: 4, // each event id once (5 lines hold events, one repeats an id)
        runs: 2,
        torn: 1,
        invalid: 2,
        duplicateIds: 1,
        conflictingIds: 1,
        lifecycle: 2,
        nonFiniteEvents: 0,
        futureEvents: 0,
        misfiledEvents: 0,
      });
      assert.equal(report.problems, 5, "2 invalid + 1 duplicate + 2 lifecycle, torn not counted");
      const [day] = report.days;
      assert.deepEqual(day.invalid.map((f) => `${f.file}:${f.line}`), [
        "day=2026-01-20/part-a.jsonl:3",
        "day=2026-01-20/part-b.jsonl:4",
      ]);
      assert.match(day.invalid[0].reason, /not JSON/);
      assert.match(day.invalid[1].reason, /empty line/);
      assert.deepEqual(day.torn.map((f) => `${f.file}:${f.line}`), [
        "day=2026-01-20/part-a.jsonl:4",
      ]);
      assert.deepEqual(report.duplicates, [{
        eventId: created.event_id,
        occurrences: [
          { file: "day=2026-01-20/part-a.jsonl", line: 1 },
          { file: "day=2026-01-20/part-b.jsonl", line: 1 },
        ],
        counted: { file: "day=2026-01-20/part-a.jsonl", line: 1 },
        sameEvent: false,
      }]);
      assert.deepEqual(report.lifecycle.map((l) => [l.runId, l.line, l.reason]), [
        ["orphan", 2, "run.completed without run.created"],
        ["ok", 3, 'phase.completed of phase "plan" without its phase.started'],
      ]);
      assert.ok(report.warnings.some((w) => w.includes("_schema.json is missing")));
      assert.deepEqual(report.ignored, ["events/notes.txt (file, not a day directory)"]);
      assert.equal((await verifyLog(root, { strict: true })).problems, 6);
    });

    await t.step("text: file:line: reason, exit 1", async () => {
      const r = await runLedger(["verify", "--root", root]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^ {2}day=2026-01-20\/part-a\.jsonl:3: invalid: not JSON/m);
      assert.match(r.stdout, /^ {2}day=2026-01-20\/part-a\.jsonl:4: torn last line/m);
      assert.match(
        r.stdout,
        /^duplicate event id ev-\d+: day=2026-01-20\/part-a\.jsonl:1, .*\(a conflict, /m,
      );
      assert.match(
        r.stdout,
        /^day=2026-01-20\/part-b\.jsonl:2: run orphan: run\.completed without/m,
      );
      assert.match(r.stdout, /^NOT SOUND: 5 problems \(2 invalid lines, 1 duplicate event id, 2 /m);
    });

    await t.step("--json has snake_case keys", async () => {
      const r = await runLedger(["verify", "--root", root, "--json"]);
      assert.equal(r.code, 1, r.stderr);
      const report = JSON.parse(r.stdout);
      assert.equal(report.sound, false);
      assert.equal(report.totals.duplicate_ids, 1);
      assert.equal(report.days[0].events_by_type["run.created"], 1, "an event id counts once");
      assert.equal(report.days[0].duplicate_events, 1);
      assert.equal(report.lifecycle[0].run_id, "orphan");
    });
  });
});

Deno.test("ledger verify: a torn tail is a problem only with --strict; late events only warn", async () => {
  await withTempDir(async (root) => {
    const runId = "r";
    await writeLines(
      root,
      `${DAY}/part-a.jsonl`,
      line(ev("run.created", runId, { run_type: "x", config: {}, data_fingerprint: "f" })) +
        line(ev("run.completed", runId, { summary: {}, artifact_paths: {} })) +
        line(ev("artifact.created", runId, {
          artifact_type: "t",
          artifact_path: "p",
          size_bytes: 1,
        })) + '{"event_type"',
    );
    const lax = await runLedger(["verify", "--root", root]);
    assert.equal(lax.code, 0, lax.stdout);
    assert.match(
      lax.stdout,
      /^warning: run r has artifact\.created at .*:3 after its run\.completed$/m,
    );
    assert.match(lax.stdout, /1 torn tail \(a problem only with --strict\)/);
    const strict = await runLedger(["verify", "--root", root, "--strict"]);
    assert.equal(strict.code, 1, strict.stdout);
    assert.match(strict.stdout, /^NOT SOUND: 1 problem \(1 torn tail\)/m);
  });
});

// A docs audit: the README tour's `ledger tag` of a finished run made verify warn of an event
// after the run's end, and a run with run.started but no run.created passed without a word,
// while QUICKSTART and emit's own warning said verify reports it.
Deno.test("ledger verify: annotations are never late; a run without run.created warns", async () => {
  await withTempDir(async (root) => {
    await writeLines(
      root,
      `${DAY}/part-a.jsonl`,
      line(ev("run.created", "done", { run_type: "x", config: {}, data_fingerprint: "f" })) +
        line(ev("run.completed", "done", { summary: {}, artifact_paths: {} })) +
        line(ev("run.tagged", "done", { tags: { label: "first" } })) +
        line(ev("run.noted", "done", { note: "n" })) +
        line(ev("run.archived", "done", {})) +
        line(ev("run.restored", "done", {})) +
        line(ev("run.tagged", "legacy-run", { tags: { a: "b" } })) +
        line(ev("run.started", "headless", {})) +
        line(ev("trial.recorded", "headless", { trial_id: "t", params: {}, metrics: {} })),
    );
    const r = await runLedger(["verify", "--root", root]);
    assert.equal(r.code, 0, r.stdout);
    const warnings = r.stdout.split("\n")
      .filter((l) => l.startsWith("warning:") && !l.includes("_schema.json"));
    assert.deepEqual(warnings, [
      "warning: run headless has run.started at day=2026-01-20/part-a.jsonl:8 but no " +
      "run.created (no run type or config; emit run.created for it)",
      // Annotations alone make no run in the index: said, not a problem (the exit code is 0).
      "warning: 1 run id with annotations (tag, note, archive, restore) but no event of the " +
      "run's own life in the log: the index lists no run for it (a mistyped id, or a run only " +
      'in the legacy DuckDB?): "legacy-run"',
    ]);
    assert.match(r.stdout, /sound: 1 day, 1 file, 9 events, 2 runs/);
  });
});

Deno.test("ledger verify: roots and usage", async (t) => {
  await withTempDir(async (dir) => {
    await t.step("missing root: one line, exit 1, nothing created", async () => {
      const root = join(dir, "nope");
      const r = await runLedger(["verify", "--root", root]);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `ledger verify: Ledger root ${root} does not exist\n`);
      assert.equal(await hashTree(root), "missing");
    });
    await t.step("root that is a file", async () => {
      const file = join(dir, "file");
      await Deno.writeTextFile(file, "x");
      const r = await runLedger(["verify", "--root", file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /is not a directory/);
    });
    await t.step("root without events: an empty, sound log; creates nothing", async () => {
      const root = join(dir, "empty");
      await Deno.mkdir(root);
      const r = await runLedger(["verify", "--root", root]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /no events directory/);
      assert.deepEqual(await Array.fromAsync(Deno.readDir(root)), []);
    });
    await t.step("symlinked root is followed", async () => {
      const real = join(dir, "real");
      const writer = await openWriter(real);
      await writer.append({ event_type: "run.started", run_id: "x" });
      await writer.close();
      await Deno.symlink(real, join(dir, "link"));
      const r = await runLedger(["verify", "--root", join(dir, "link")]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /1 event/);
    });
    await t.step("usage errors exit 2 with one line", async () => {
      for (const args of [["--bogus"], ["extra"], ["--root"]]) {
        const r = await runLedger(["verify", ...args]);
        assert.equal(r.code, 2, `${args}: ${r.stderr}`);
        assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      }
      const help = await runLedger(["verify", "--help"]);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^Usage: ledger verify/);
    });
  });
});

// A part whose name is not UTF-8 failed verify with a bare "No such file or directory (os error
// 2): stat '...bad\uFFFD.jsonl'": Deno cannot name such a file, so no reader can open it.
Deno.test("ledger verify: a file name that is not UTF-8 is named in a warning, not an OS error", async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    await Deno.writeTextFile(join(day, "part-000001.jsonl"), PYTHON_LINES[0] + "\n");
    const made = await new Deno.Command("sh", {
      args: [
        "-c",
        `printf '%s\\n' "$1" > "$2/$(printf 'bad\\377').jsonl"`,
        "sh",
        PYTHON_LINES[0],
        day,
      ],
    }).output();
    assert.equal(made.code, 0, new TextDecoder().decode(made.stderr));
    const r = await runLedger(["verify", "--root", root]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /warning: events\/day=2026-01-20\/bad\uFFFD\.jsonl: the file name is not valid UTF-8/,
    );
    assert.equal(r.stderr, "");
  });
});

Deno.test("ledger verify: control characters of file names and lines are escaped, not sent raw", async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    // An audit: a name and a line holding terminal escapes (clear screen, colours, bell).
    await Deno.writeTextFile(join(day, "a\x1b[32m.jsonl"), "\x1b[2J\x1b[31mBAD\x07\n");
    const r = await runLedger(["verify", "--root", root]);
    assert.equal(r.code, 1, r.stderr);
    // Newlines between lines only: no other control character reaches the terminal.
    // deno-lint-ignore no-control-regex
    assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f]/);
    assert.match(r.stdout, /a\\x1b\[32m\.jsonl:1: invalid: .*\\x1b\[2J\\x1b\[31mBAD\\x07/);
  });
});

Deno.test("ledger verify: warns of events filed under another day and of a run created twice", async () => {
  await withTempDir(async (root) => {
    const created = (id: string, runType: string) => ({
      ...ev("run.created", "twice", { run_type: runType, config: {}, data_fingerprint: "f" }),
      event_id: id,
    });
    await writeLines(
      root,
      `${DAY}/part-a.jsonl`,
      line(created("c-1", "first")) + line(created("c-2", "second")) +
        // An hour before the day of its directory (a hand-written backfill).
        line({ ...ev("run.started", "late"), timestamp_ms: T0 - 3_600_000 }),
    );
    const before = await hashTree(root);
    const report = await verifyLog(root);
    assert.equal(report.sound, true, "warnings, not problems");
    assert.equal(report.totals.misfiledEvents, 1);
    assert.ok(
      report.warnings.includes(
        `1 event in a day directory other than the UTC day of their timestamp_ms (first at ` +
          `${DAY}/part-a.jsonl:3: 2026-01-19T23:00:00.000Z); they are indexed, but ` +
          `rebuild-index --since-date and removing old days go by the directory`,
      ),
      report.warnings.join("\n"),
    );
    assert.ok(
      report.warnings.includes(
        "run twice has 2 run.created events (the first by timestamp_ms, then event_id, " +
          "gives its run type and config)",
      ),
      report.warnings.join("\n"),
    );
    const r = await runLedger(["verify", "--root", root]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^warning: run twice has 2 run\.created events/m);
    assert.equal(await hashTree(root), before, "verify changed nothing");
    // The index agrees: the first run.created gives the run type.
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);
    const shown = await runLedger(["show", "twice", "--root", root, "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.equal(JSON.parse(shown.stdout).run.run_type, "first");
  });
});

Deno.test("ledger verify: an invalid number is quoted as the line wrote it, as in ingest_errors", async () => {
  await withTempDir(async (root) => {
    const base = { event_type: "phase.started", run_id: "r", phase_name: "load" };
    await writeLines(
      root,
      `${DAY}/part-a.jsonl`,
      // JSON.parse reads these as 9007199254740992 and Infinity (then null).
      `{"event_id":"n-1","timestamp_ms":9007199254740993,"event_type":"run.started","run_id":"r"}\n` +
        line({ ...base, event_id: "n-2", timestamp_ms: T0 }).replace("}", ',"phase_order":1e400}') +
        line({ ...base, event_id: "n-3", timestamp_ms: T0 }).replace("}", ',"phase_order":-2.50}') +
        // Repeated key: the first value counts, so the text of neither is quoted.
        line({ ...base, event_id: "n-4", timestamp_ms: T0 }).replace(
          "}",
          ',"phase_order":9007199254740993,"phase_order":9007199254740995}',
        ) +
        // Nested numbers of the same name are not the field.
        `{"event_type":"phase.started","event_id":"n-5","timestamp_ms":${T0},"run_id":"r",` +
        `"phase_name":"x","phase_order":"7","x":{"phase_order":12345678901234567891}}\n` +
        // Python's non-finite numbers, which JSON.parse refuses and the reader reads as null
        // ("got null" was said of them); a string naming one is not the value; null is null.
        line({ ...base, event_id: "n-6", timestamp_ms: T0 }).replace("}", ',"phase_order":NaN}') +
        line({ ...base, event_id: "n-7", note: '"phase_order": NaN', timestamp_ms: T0 })
          .replace("}", ', "phase_order" : -inf , "y": [Infinity]}') +
        line({ ...base, event_id: "n-8", timestamp_ms: T0 }).replace(
          "}",
          ',"x":NaN,"phase_order":null}',
        ) +
        // Nested: a tag's value (the index said "got NaN", verify "got null": a probe).
        `{"event_type":"run.tagged","event_id":"n-9","timestamp_ms":${T0},"run_id":"r",` +
        `"tags":{"desk":"a","label":-Infinity}}\n` +
        `{"event_type":"run.tagged","event_id":"n-10","timestamp_ms":${T0},"run_id":"r",` +
        `"tags":{"desk":-1E+400}}\n`,
    );
    const report = await verifyLog(root);
    const reasons = report.days[0].invalid.map((f) => `${f.line}: ${f.reason}`);
    assert.deepEqual(reasons, [
      "1: run.started: timestamp_ms must be an integer between 0 and 253402300799999, got 9007199254740993",
      "2: phase.started: phase_order must be an integer >= 0, got 1e400",
      "3: phase.started: phase_order must be an integer >= 0, got -2.50",
      "4: phase.started: phase_order must be an integer >= 0, at most 9007199254740991, got 9007199254740992",
      '5: phase.started: phase_order must be an integer >= 0, got "7"',
      "6: phase.started: phase_order must be an integer >= 0, got NaN",
      "7: phase.started: phase_order must be an integer >= 0, got -inf",
      "8: phase.started: phase_order must be an integer >= 0, got null",
      "9: run.tagged: tags.label must be a string, got -Infinity",
      "10: run.tagged: tags.desk must be a string, got -1E+400",
    ]);
    // The index names the same values for the lines a single value decides.
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);
    const indexed = await runLedger([
      ...["sql", "--root", root, "--format", "json"],
      "SELECT line, reason FROM ingest_errors WHERE line IN (2, 6, 7, 9, 10) ORDER BY line",
    ]);
    assert.equal(indexed.code, 0, indexed.stderr);
    const got = (JSON.parse(indexed.stdout) as { reason: string }[])
      .map((r) => r.reason.slice(r.reason.lastIndexOf(", got ")));
    assert.deepEqual(got, [
      ", got 1e400",
      ", got NaN",
      ", got -inf",
      ", got -Infinity)",
      ", got -1E+400)",
    ]);
  });
});

Deno.test("ledger verify: warns of a run that ended before it started (negative duration)", async () => {
  await withTempDir(async (root) => {
    const at = (event: Record<string, unknown>, ms: number) => ({
      ...event,
      timestamp_ms: T0 + ms,
    });
    await writeLines(
      root,
      `${DAY}/part-a.jsonl`,
      line(at(ev("run.created", "skew", { run_type: "x", config: {}, data_fingerprint: "f" }), 0)) +
        line(at(ev("run.started", "skew"), 5_000)) +
        // Another machine's clock: the failure counts (later than the completion), 1.5 s early.
        line(at(ev("run.completed", "skew", { summary: {}, artifact_paths: {} }), 1_000)) +
        line(at(ev("run.failed", "skew", { error: { message: "x" } }), 3_500)) +
        line(at(ev("run.started", "fine"), 0)) +
        line(at(ev("run.completed", "fine", { summary: {}, artifact_paths: {} }), 1)),
    );
    const report = await verifyLog(root);
    const skewed = report.warnings.filter((w) => w.includes("before it started"));
    assert.deepEqual(skewed, [
      `run skew ended (run.failed at ${DAY}/part-a.jsonl:4) 1500 ms before it started ` +
      `(run.started at ${DAY}/part-a.jsonl:2): its duration shows negative (the writers' ` +
      `clocks disagree?)`,
    ]);
    // The index shows the same ending and start.
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const r = await runLedger(["runs", "--root", root, "--json", "--columns", "duration_ms"]);
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as { run_id: string; duration_ms: number }[];
    assert.equal(rows.find((x) => x.run_id === "skew")?.duration_ms, -1500);
  });
});
