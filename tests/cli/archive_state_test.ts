/**
 * `ledger archive` and `ledger restore` of a run already in the state asked
 * for write nothing and say so on one line, exit 0 (an audit: `restore` of a
 * run never archived appended a `run.restored` and printed `restored RUN`);
 * an archive with a new reason is recorded, and an empty `--reason` is no
 * reason (it printed `archived RUN ()`). An index not refreshed (`--no-index`)
 * never makes them skip a change the log needs.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { readLog } from "../../ledger/reader.ts";
import { runCreatedArgs, runLedger, withTempDir } from "../_helpers.ts";

/** The archive and restore events in the log, in order, each with its reason as JSON if any. */
async function archiveEvents(root: string): Promise<string[]> {
  const out: string[] = [];
  for await (const record of readLog(root)) {
    if (record.kind !== "event") continue;
    const e = record.event as Record<string, unknown>;
    if (e.event_type !== "run.archived" && e.event_type !== "run.restored") continue;
    out.push("reason" in e ? `${e.event_type} ${JSON.stringify(e.reason)}` : String(e.event_type));
  }
  return out;
}

Deno.test("archive and restore write nothing when the run is already so", async (t) => {
  await withTempDir(async (root) => {
    equal((await runLedger(runCreatedArgs(root, "arc-1"))).code, 0);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const ledger = (...args: string[]) => runLedger([...args, "--root", root]);

    await t.step("restore of a run never archived", async () => {
      const r = await ledger("restore", "arc-1");
      deepEqual([r.code, r.stdout, r.stderr], [0, "arc-1 is not archived; nothing written\n", ""]);
      deepEqual(await archiveEvents(root), []);
    });

    await t.step("an empty --reason is no reason", async () => {
      const r = await ledger("archive", "arc-1", "--reason=");
      deepEqual([r.code, r.stdout], [0, "archived arc-1\n"]);
      deepEqual(await archiveEvents(root), ["run.archived"]);
    });

    await t.step("archive of an archived run, without a reason or with the same one", async () => {
      const again = await ledger("archive", "arc-1");
      deepEqual([again.code, again.stdout], [0, "arc-1 is already archived; nothing written\n"]);
      const blank = await ledger("archive", "arc-1", "--reason", " ");
      deepEqual([blank.code, blank.stdout], [0, "arc-1 is already archived; nothing written\n"]);
      const why = await ledger("archive", "arc-1", "--reason", "dup");
      deepEqual([why.code, why.stdout], [0, "archived arc-1 (dup)\n"]);
      const same = await ledger("archive", "arc-1", "--reason", "dup");
      deepEqual([same.code, same.stdout], [0, "arc-1 is already archived; nothing written\n"]);
      deepEqual(await archiveEvents(root), ["run.archived", 'run.archived "dup"']);
    });

    await t.step("a restore the index has not seen still lets archive write", async () => {
      const restored = await ledger("restore", "arc-1", "--no-index");
      deepEqual([restored.code, restored.stdout], [0, "restored arc-1\n"]);
      // The index still says archived (dup); the log says restored.
      const archived = await ledger("archive", "arc-1");
      deepEqual([archived.code, archived.stdout], [0, "archived arc-1\n"]);
      const runs = await ledger("runs", "--all", "--format", "jsonl");
      equal(JSON.parse(runs.stdout).archived, true);
      deepEqual(await archiveEvents(root), [
        "run.archived",
        'run.archived "dup"',
        "run.restored",
        "run.archived",
      ]);
    });
  });
});
