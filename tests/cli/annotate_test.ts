/**
 * `ledger tag|note|archive|restore` are short-lived writers like `ledger
 * emit` (SPEC 3): a shell loop of them appends to the day's shared CLI part
 * (`emit-NNNNNN.jsonl`, under its lock) instead of leaving one part file per
 * call, and each still refreshes the index unless `--no-index`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { basename } from "node:path";
import { listParts, readLog } from "../../ledger/reader.ts";
import { sharedPartFileName } from "../../ledger/paths.ts";
import {
  CLI_PATH,
  denoScriptArgs,
  readCheckedLog,
  runCreatedArgs,
  runLedger,
  withTempDir,
} from "../_helpers.ts";

/** `ledger tag` processes the test runs at once. */
const TAGS = 5;
/** `ledger note` processes run beside them. */
const NOTES = 3;

Deno.test("annotations: tag, note, archive and restore processes share the day's emit part", async () => {
  await withTempDir(async (root) => {
    const created = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.created",
      "--run-id",
      "ann-1",
      "--run-type",
      "policy",
      "--config",
      "{}",
      "--data-fingerprint",
      "f",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const indexed = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(indexed.code, 0, indexed.stderr);

    // Several processes at once (the lock serializes them); "ann" is a unique prefix.
    const results = await Promise.all([
      ...Array.from(
        { length: TAGS },
        (_, i) => runLedger(["tag", "--root", root, "ann", `k${i}=v${i}`, "--no-index"]),
      ),
      ...Array.from(
        { length: NOTES },
        (_, i) => runLedger(["note", "--root", root, "ann-1", `note ${i}`, "--no-index"]),
      ),
    ]);
    results.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, i < TAGS ? `tagged ann-1: k${i}=v${i}\n` : "noted ann-1\n");
    });
    // These two refresh the index (no --no-index): ledger runs sees each.
    const archived = await runLedger(["archive", "--root", root, "ann-1", "--reason", "dup"]);
    assert.equal(archived.code, 0, archived.stderr);
    assert.equal(archived.stdout, "archived ann-1 (dup)\n");
    assert.deepEqual(await listedRuns(root), []);
    const restored = await runLedger(["restore", "--root", root, "ann-1"]);
    assert.equal(restored.code, 0, restored.stderr);
    assert.equal(restored.stdout, "restored ann-1\n");
    assert.deepEqual(await listedRuns(root), ["ann-1"]);

    const parts = await listParts(root);
    const days = new Set(parts.map((p) => p.file.split("/")[0]));
    assert.deepEqual(
      parts.map((p) => basename(p.file)),
      [...days].map(() => sharedPartFileName(1)),
      "one shared part per day, the one emit appended to",
    );
    const log = await readCheckedLog(root); // every line valid, at most a torn tail
    assert.equal(log.torn, 0);
    assert.equal(log.events, 1 + TAGS + NOTES + 2);
    const types: Record<string, number> = {};
    const tags: Record<string, string> = {};
    const notes: string[] = [];
    for await (const record of readLog(root)) {
      if (record.kind !== "event") continue;
      const event = record.event;
      types[event.event_type] = (types[event.event_type] ?? 0) + 1;
      if (event.event_type === "run.tagged") Object.assign(tags, event.tags);
      if (event.event_type === "run.noted") notes.push(event.note);
      assert.equal(event.run_id, "ann-1");
    }
    assert.deepEqual(types, {
      "run.created": 1,
      "run.tagged": TAGS,
      "run.noted": NOTES,
      "run.archived": 1,
      "run.restored": 1,
    });
    assert.deepEqual(tags, { k0: "v0", k1: "v1", k2: "v2", k3: "v3", k4: "v4" });
    assert.deepEqual(notes.sort(), ["note 0", "note 1", "note 2"]);

    // The --no-index events reached the index with the last refresh.
    const shown = await runLedger(["show", "--root", root, "ann-1", "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    const detail = JSON.parse(shown.stdout);
    assert.deepEqual(detail.tags, tags);
    assert.equal(detail.notes.length, NOTES);
    assert.equal(detail.run.label, null, "no label tag: label null");

    // A label tag is the run's label (SPEC 11), in show's text and --json.
    const labelled = await runLedger(["tag", "--root", root, "ann-1", "label=best stop"]);
    assert.equal(labelled.code, 0, labelled.stderr);
    const json = await runLedger(["show", "--root", root, "ann-1", "--json"]);
    assert.equal(JSON.parse(json.stdout).run.label, "best stop");
    const text = await runLedger(["show", "--root", root, "ann-1"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^run {8}ann-1\nlabel {6}best stop\ntype /);
  });
});

/** The run ids `ledger runs --json` lists (archived runs hidden). */
async function listedRuns(root: string): Promise<string[]> {
  const r = await runLedger(["runs", "--root", root, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).map((run: { run_id: string }) => run.run_id);
}

Deno.test("annotations: the confirmation line escapes control characters", async () => {
  await withTempDir(async (root) => {
    const created = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.created",
      "--run-id",
      "ann-2",
      "--run-type",
      "policy",
      "--config",
      "{}",
      "--data-fingerprint",
      "f",
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const red = "\x1b[31m";
    const tagged = await runLedger(["tag", "--root", root, "ann-2", `label=l${red}`, "--no-index"]);
    assert.equal(tagged.code, 0, tagged.stderr);
    assert.equal(tagged.stdout, "tagged ann-2: label=l\\x1b[31m\n");
    const archived = await runLedger([
      "archive",
      "--root",
      root,
      "ann-2",
      "--reason",
      `old${red}\x07`,
      "--no-index",
    ]);
    assert.equal(archived.code, 0, archived.stderr);
    assert.equal(archived.stdout, "archived ann-2 (old\\x1b[31m\\x07)\n");
    // The log keeps the values as given.
    const tags = [];
    for await (const record of readLog(root)) {
      if (record.kind === "event" && record.event.event_type === "run.tagged") {
        tags.push(record.event.tags);
      }
    }
    assert.deepEqual(tags, [{ label: `l${red}` }]);
  });
});

// A soak audit: behind the daemon's rebuild, tag/note/archive/restore waited up to 54 s without a
// word, where rebuild-index says it waits and for whom.
Deno.test("annotations: a refresh that waits for another rebuild says so", async () => {
  await withTempDir(async (root) => {
    const created = await runLedger(runCreatedArgs(root, "ann-w"));
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    // Another rebuild holds the lock (flock: this process's own open file description).
    const lockPath = `${root}/index/.runs.duckdb.rebuild.lock`;
    const holder = await Deno.open(lockPath, { read: true, write: true });
    await holder.lock(true);
    await holder.truncate(0);
    await holder.write(new TextEncoder().encode("424242\n"));
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(CLI_PATH, ["note", "--root", root, "ann-w", "checked"]),
      env: { LEDGER_ROOT: "" },
      signal: AbortSignal.timeout(60_000), // a wait that says nothing ends here, failing below
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stdout = new Response(child.stdout).text();
    // The rebuild ends once the note says it waits for it (bounded: a silent wait fails).
    const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    while (!said.includes("\n")) {
      const { value, done } = await stderr.read();
      if (done) break;
      said += value;
    }
    holder.close(); // the lock goes with it: the note's refresh goes on
    for (let r = await stderr.read(); !r.done; r = await stderr.read()) said += r.value;
    const status = await child.status;
    assert.equal(status.code, 0, said);
    assert.equal(await stdout, "noted ann-w\n");
    // The refresh before the note is written (the run's state is read from an index caught up
    // with the log) is the one that waits: nothing is in the log yet.
    assert.equal(
      said,
      `ledger note: waiting for another rebuild of ${root}/index/runs.duckdb to finish (held by ` +
        `pid 424242; lock file ${lockPath}); nothing is written yet (--no-index skips this ` +
        "refresh)\n",
    );
  });
});

Deno.test("annotations: a run an older writer named outside the new-id pattern can be annotated", async () => {
  await withTempDir(async (root) => {
    // The earlier Python writer's run, with an id that is no path segment (an audit: tag, note
    // and archive refused it with the new-id rule, so it could never be archived).
    const id = "baseline:2026-01-20 v2";
    const day = `${root}/events/day=2026-01-20`;
    await Deno.mkdir(day, { recursive: true });
    const created = {
      event_type: "run.created",
      event_id: "1768867200000_a1b2c3d4",
      timestamp_ms: 1768867200000,
      run_id: id,
      run_type: "baseline",
      config: {},
      data_fingerprint: "fp",
    };
    await Deno.writeTextFile(`${day}/part-000001.jsonl`, JSON.stringify(created) + "\n");
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    for (const args of [["tag", "baseline", "label=old"], ["note", "baseline", "kept"]]) {
      const r = await runLedger([args[0], "--root", root, ...args.slice(1), "--no-index"]);
      assert.equal(r.code, 0, r.stderr);
    }
    const archived = await runLedger(["archive", "--root", root, "baseline", "--reason", "old"]);
    assert.equal(archived.code, 0, archived.stderr);
    assert.equal(archived.stdout, `archived ${id} (old)\n`);
    assert.deepEqual(await listedRuns(root), []);
    const shown = await runLedger(["show", "--root", root, "baseline", "--json"]);
    assert.equal(shown.code, 0, shown.stderr);
    const detail = JSON.parse(shown.stdout);
    assert.equal(detail.run.label, "old");
    assert.equal(detail.notes.length, 1);
    assert.equal(detail.archived, true);
    // Events of a run's own life still need a new-style id: they may name its directory.
    const started = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.started",
      "--run-id",
      id,
    ]);
    assert.equal(started.code, 1);
    assert.match(started.stderr, /run_id must be a string matching/);
    // And an annotation's id still follows the read rule: not empty, at most 256 characters.
    const long = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.noted",
      "--run-id",
      "x".repeat(257),
      "--note",
      "n",
    ]);
    assert.equal(long.code, 1);
    assert.match(long.stderr, /run_id must be at most 256 characters/);
  });
});

Deno.test("annotations: annotations alone make no run, in the index or for ledger tag", async () => {
  await withTempDir(async (root) => {
    const emit = (...args: string[]) => runLedger(["emit", "--root", root, ...args]);
    const created = await emit(
      "--event-type",
      "run.created",
      "--run-id",
      "real-1",
      "--run-type",
      "t",
      "--config",
      "{}",
      "--data-fingerprint",
      "f",
    );
    assert.equal(created.code, 0, created.stderr);
    // A mistyped id (emit only warns) and an archive of a run the log does not hold.
    for (
      const args of [
        ["--event-type", "run.tagged", "--run-id", "reel-1", "--tags", '{"label":"typo"}'],
        ["--event-type", "run.archived", "--run-id", "real-2"],
      ]
    ) {
      const r = await emit(...args);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /has no run\.created in the log \(a mistyped run id\?\)/);
      assert.match(r.stderr, /an annotation alone makes no run/);
    }
    const indexed = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(indexed.code, 0, indexed.stderr);
    assert.match(indexed.stdout, /Indexed 3 events of 1 runs/);
    const all = await runLedger(["runs", "--root", root, "--all", "--json"]);
    assert.deepEqual(JSON.parse(all.stdout).map((r: { run_id: string }) => r.run_id), ["real-1"]);
    const tagged = await runLedger(["tag", "--root", root, "reel-1", "owner=me"]);
    assert.equal(tagged.code, 1, tagged.stdout);
    assert.match(tagged.stderr, /reel-1/);
    // A run only in the legacy DuckDB is the other reason: the dual-mode audit wanted its fix named.
    assert.match(
      tagged.stderr,
      /a run only in the legacy DuckDB enters it with `ledger legacy backfill`/,
    );
    // The run appears once an event of its own life is there, with the label given before.
    const started = await emit("--event-type", "run.started", "--run-id", "reel-1");
    assert.equal(started.code, 0, started.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const listed = await runLedger(["runs", "--root", root, "--all", "--json"]);
    const runs = JSON.parse(listed.stdout) as { run_id: string; label: string | null }[];
    assert.deepEqual(runs.map((r) => [r.run_id, r.label]).sort(), [
      ["real-1", null],
      ["reel-1", "typo"],
    ]);
    const full = await runLedger(["rebuild-index", "--root", root, "--full"]);
    assert.match(full.stdout, /Indexed 4 events of 2 runs/);
  });
});

Deno.test("annotations: --root before the command keeps the words after -- as text", async () => {
  await withTempDir(async (root) => {
    const created = await runLedger(runCreatedArgs(root, "dash-1"));
    assert.equal(created.code, 0, created.stderr);
    assert.equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    // A probe: `--root DIR` moved after the `--`, so it was read as the note's text.
    const noted = await runLedger(["--root", root, "note", "dash-1", "--", "-5 bps worse"]);
    assert.equal(noted.code, 0, noted.stderr);
    const tagged = await runLedger([`--root=${root}`, "tag", "dash-1", "--", "-k=v"]);
    assert.equal(tagged.code, 0, tagged.stderr);
    const shown = await runLedger(["--root", root, "show", "--json", "--", "dash-1"]);
    assert.equal(shown.code, 0, shown.stderr);
    const detail = JSON.parse(shown.stdout);
    assert.deepEqual(detail.notes.map((n: { note: string }) => n.note), ["-5 bps worse"]);
    assert.deepEqual(detail.tags, { "-k": "v" });
  });
});
