/**
 * Annotations in dual mode (SPEC 10, 11): a run created before the cutover
 * and backfilled into the log is in both stores, and `ledger runs
 * --legacy-db` answers it from the legacy file. `ledger tag` and `ledger
 * archive` accept it (the index knows it) and print that they did; the
 * listing must then show its label and tags and hide it as archived, or the
 * command changed nothing a reader can see. Annotations live only in the
 * event log, so they come from the index whichever store answers the run.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

Deno.test("annotations: a backfilled legacy run shows its label and tags, and hides when archived, in dual mode", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const legacyDb = join(dir, "legacy.duckdb");
    // Before the cutover, in both stores (as after `ledger legacy backfill`).
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      ...fullRun("both-a", T0),
      ...fullRun("both-b", T0 + 3_600_000),
    ]);
    await rebuildIndex(root, {});
    await createLegacyDb(legacyDb, [
      { run_id: "both-a", run_type: "baseline", created_at_ms: T0 },
      { run_id: "both-b", run_type: "baseline", created_at_ms: T0 + 3_600_000 },
    ]);
    const ledger = (args: string[]) => runLedger([...args, "--root", root], { cwd: dir });
    const tagged = await ledger(["tag", "both-a", "label=keep", "desk=emea"]);
    equal(tagged.code, 0, tagged.stderr);
    const archived = await ledger(["archive", "both-b", "--reason", "superseded"]);
    equal(archived.code, 0, archived.stderr);
    equal(archived.stdout, "archived both-b (superseded)\n");

    const listed = await ledger([
      "runs",
      "--legacy-db",
      legacyDb,
      "--json",
      "--columns",
      "tags.desk",
    ]);
    equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Record<string, unknown>[];
    deepEqual(
      rows.map((r) => [r.run_id, r.source, r.label, r.archived, r["tags.desk"]]),
      [["both-a", "legacy", "keep", false, "emea"]],
      "both-b archived: hidden; both-a labelled and tagged",
    );
    const all = await ledger(["runs", "--legacy-db", legacyDb, "--all", "--format", "jsonl"]);
    equal(all.code, 0, all.stderr);
    const allRows = all.stdout.trim().split("\n").map((l) => JSON.parse(l));
    deepEqual(
      allRows.map((r) => [r.run_id, r.source, r.archived]),
      [["both-b", "legacy", true], ["both-a", "legacy", false]],
    );
    const filtered = await ledger([
      "runs",
      "--legacy-db",
      legacyDb,
      "--where",
      "tags.desk = 'emea'",
      "--format",
      "csv",
    ]);
    equal(filtered.code, 0, filtered.stderr);
    deepEqual(filtered.stdout.trim().split("\n").slice(1).map((l) => l.split(",")[0]), ["both-a"]);
  });
});
