/**
 * Interop with the earlier Python writer (SPEC 3, issue 14.2): it appends to
 * `sorted(glob('part-*.jsonl'))[-1]` of a day folder. A Python process
 * following that rule runs beside real ledger writer processes (an
 * in-process writer and `ledger emit` calls) into one day folder, which
 * also holds a ledger 0.1 part (`part-<writer>-<seq>.jsonl`, not migrated):
 * every event of both is indexed, and no file is written by both.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { listParts, readPartFile } from "../../ledger/reader.ts";
import { dayDir, dayOf, PYTHON_PART_PATTERN } from "../../ledger/paths.ts";
import { indexedIds, runLedger } from "../_helpers.ts";
import { denoRunArgs, REPO_ROOT, withTempDir } from "./_helpers.ts";

const WRITER_CHILD = new URL("./_writer_child.ts", import.meta.url).pathname;
/** Events the Python process appends, and events of the ledger writer child. */
const PYTHON_EVENTS = 300;
const LEDGER_EVENTS = 300;
/** `ledger emit` processes run while the others write. */
const EMITS = 6;

/** The Python writer's selection rule, as the earlier tools have it. */
const PYTHON_WRITER = `
import glob, json, os, sys, time, uuid
day_dir, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    parts = sorted(glob.glob(os.path.join(day_dir, 'part-*.jsonl')))
    path = parts[-1] if parts else os.path.join(day_dir, 'part-000001.jsonl')
    event = {'event_id': str(uuid.uuid4()), 'event_type': 'phase.started',
             'timestamp_ms': int(time.time() * 1000), 'schema_version': 1,
             'run_id': 'py-run', 'phase_name': 'p', 'phase_order': i}
    with open(path, 'a') as f:
        f.write(json.dumps(event) + '\\n')
    print(event['event_id'], path, flush=True)
`;

async function python3Available(): Promise<boolean> {
  try {
    const out = await new Deno.Command("python3", { args: ["--version"], stdout: "null" })
      .output();
    return out.success;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

const HAS_PYTHON = await python3Available();
if (!HAS_PYTHON) console.log("interop: ignored, python3 is not installed");

Deno.test({
  name: "interop: a Python writer and ledger writers share a day folder, no file written by both",
  ignore: !HAS_PYTHON,
  async fn() {
    await withTempDir(async (root) => {
      const day = dayOf(Date.now());
      const dir = dayDir(root, day);
      await Deno.mkdir(dir, { recursive: true });
      // A ledger 0.1 part, left as it is: it keeps indexing (and, sorting last
      // among part-*, is where the Python writer appends: ledger never writes
      // to it again).
      const oldPart = "part-01a0000000000000old-000001.jsonl";
      const oldEvent = {
        event_id: "old-ledger-event",
        event_type: "run.started",
        timestamp_ms: Date.now(),
        schema_version: 1,
        run_id: "old-run",
      };
      await Deno.writeTextFile(join(dir, oldPart), JSON.stringify(oldEvent) + "\n");
      const script = join(root, "python_writer.py");
      await Deno.writeTextFile(script, PYTHON_WRITER);

      const python = new Deno.Command("python3", {
        args: [script, dir, String(PYTHON_EVENTS)],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const writer = new Deno.Command(Deno.execPath(), {
        args: denoRunArgs(WRITER_CHILD, [root, "ledger-run", String(LEDGER_EVENTS)]),
        cwd: REPO_ROOT,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const emits = Array.from({ length: EMITS }, (_, i) =>
        runLedger([
          "emit",
          "--root",
          root,
          "--event-type",
          "run.started",
          "--run-id",
          `emit-run-${i}`,
        ]));
      const [py, child, ...emitted] = await Promise.all([python, writer, ...emits]);
      const decode = (b: Uint8Array) => new TextDecoder().decode(b);
      assert.equal(py.code, 0, decode(py.stderr));
      assert.equal(child.code, 0, decode(child.stderr));
      const pythonRows = decode(py.stdout).trim().split("\n").map((l) => l.split(" "));
      const pythonIds = pythonRows.map(([id]) => id);
      const pythonFiles = new Set(pythonRows.map(([, path]) => path.split("/").at(-1)!));
      const ledgerIds = decode(child.stdout).trim().split("\n");
      for (const r of emitted) assert.equal(r.code, 0, r.stderr);
      const emitIds = emitted.map((r) => r.stdout.trim());
      assert.equal(pythonIds.length, PYTHON_EVENTS);
      assert.ok(ledgerIds.length >= LEDGER_EVENTS, `${ledgerIds.length} ledger events`);

      await assertNoSharedFile(root, pythonFiles, new Set([...ledgerIds, ...emitIds]));

      await rebuildIndex(root);
      const indexed = await indexedIds(join(root, "index", "runs.duckdb"));
      const all = [...pythonIds, ...ledgerIds, ...emitIds, oldEvent.event_id];
      assert.deepEqual(all.filter((id) => !indexed.has(id)), [], "every event is indexed");
      assert.equal(indexed.size, all.length);
    });
  },
});

/**
 * The Python process only wrote `part-*` files, ledger's processes none of
 * them: every ledger-written line is in a `ledger-*` or `emit-*` file, and
 * no file holds lines of both.
 */
async function assertNoSharedFile(
  root: string,
  pythonFiles: Set<string>,
  ledgerIds: Set<string>,
): Promise<void> {
  for (const name of pythonFiles) {
    assert.match(name, PYTHON_PART_PATTERN, `the Python writer wrote ${name}`);
  }
  for (const part of await listParts(root)) {
    const name = part.path.split("/").at(-1)!;
    let ledgerLines = 0;
    let otherLines = 0;
    for await (const record of readPartFile(part.path)) {
      assert.equal(record.kind, "event", `${part.file}:${record.line} is ${record.kind}`);
      if (record.kind !== "event") continue;
      if (ledgerIds.has(record.event.event_id)) ledgerLines += 1;
      else otherLines += 1;
    }
    assert.ok(ledgerLines === 0 || otherLines === 0, `${name} holds lines of both writers`);
    if (ledgerLines > 0) {
      assert.doesNotMatch(name, PYTHON_PART_PATTERN, `ledger wrote to ${name}`);
      assert.match(name, /^(ledger-|emit-)/);
    }
  }
}
