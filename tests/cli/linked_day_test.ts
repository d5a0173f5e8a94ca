/**
 * A day folder that is a symbolic link (old days moved to another disk and
 * linked back) is read by every reader of the log as the writers write it;
 * a shared part that is a link is refused by the writer, since no reader
 * reads a linked part. A probe: writers appended through a linked day
 * folder and printed the ids, and `rebuild-index`, `verify`, `ship` and
 * emit's own run lookup skipped the folder, all exiting 0.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { sharedPartFileName } from "../../ledger/paths.ts";
import { hashTree, runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

const DAY_MS = Date.UTC(2026, 0, 3, 12);

/** `ledger emit` of a `run.started` of run "linked" at `timestampMs`. */
function emitStarted(root: string, timestampMs: number) {
  const event = { event_type: "run.started", run_id: "linked", timestamp_ms: timestampMs };
  return runLedger(["emit", "--root", root, "--event", JSON.stringify(event)]);
}

Deno.test("a linked day folder is written and read alike; a linked shared part is refused", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "root");
    const elsewhere = join(dir, "other-disk", "day=2026-01-03");
    await Deno.mkdir(elsewhere, { recursive: true });
    const created = await runLedger(runCreatedArgs(root, "plain"));
    equal(created.code, 0, created.stderr);
    await Deno.symlink(elsewhere, join(root, "events", "day=2026-01-03"));

    await t.step("emit writes through the link and finds its own run.created there", async () => {
      const first = await runLedger(
        runCreatedArgs(root, "linked", ["--timestamp-ms", String(DAY_MS)]),
      );
      equal(first.code, 0, first.stderr);
      const second = await emitStarted(root, DAY_MS + 1);
      equal(second.code, 0, second.stderr);
      equal(second.stderr, "", "no warning that the run has no run.created");
      const [part] = [...Deno.readDirSync(elsewhere)].map((e) => e.name);
      equal(Deno.readTextFileSync(join(elsewhere, part)).trim().split("\n").length, 2);
    });

    await t.step("rebuild-index and runs read the linked day", async () => {
      const rebuilt = await runLedger(["rebuild-index", "--root", root, "--full", "--verbose"]);
      equal(rebuilt.code, 0, rebuilt.stderr);
      ok(!rebuilt.stderr.includes("skipped"), rebuilt.stderr);
      const runs = await runLedger(["runs", "--root", root, "--format", "jsonl"]);
      equal(runs.code, 0, runs.stderr);
      deepEqual(
        runs.stdout.trim().split("\n").map((l) => JSON.parse(l).run_id).sort(),
        ["linked", "plain"],
      );
    });

    await t.step("verify reads it and ignores nothing", async () => {
      const verified = await runLedger(["verify", "--root", root]);
      equal(verified.code, 0, verified.stderr);
      ok(!verified.stdout.includes("ignored"), verified.stdout);
      ok(/\b3 events\b|\b3 lines\b/.test(verified.stdout), verified.stdout);
    });

    await t.step("a shared part that is a link: exit 1, one line, nothing written", async () => {
      const target = join(dir, "other-disk", "target.jsonl");
      await Deno.writeTextFile(target, "");
      await Deno.symlink(target, join(elsewhere, sharedPartFileName(2))); // the day of DAY_MS
      // The writer appends to the newest shared part: the link, sequence 2.
      // The log's real folders: the linked day's, and the plain day's (hashTree follows no link).
      const plainDays = [...Deno.readDirSync(join(root, "events"))]
        .filter((e) => e.isDirectory).map((e) => join(root, "events", e.name));
      equal(plainDays.length, 1); // the day of "plain"
      const logFolders = () => Promise.all([join(dir, "other-disk"), ...plainDays].map(hashTree));
      const before = await logFolders();
      const r = await emitStarted(root, DAY_MS + 2);
      equal(r.code, 1, r.stderr);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      ok(r.stderr.includes("symbolic link"), r.stderr);
      equal(await Deno.readTextFile(target), "");
      deepEqual(await logFolders(), before);
    });
  });
});
