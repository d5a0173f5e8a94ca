/**
 * `compare`'s `same_data`: every run has the same data fingerprint, and one
 * that says something. A probe: `emit --data-fingerprint ''` is taken, and
 * two such runs compared as the same data, though nothing is known of it.
 *
 * @module
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";
import { emitCreatedRuns } from "./_query_fixture.ts";
import { writeFixtures } from "../backtest/_fixtures.ts";

/** `compare --json`'s `same_data` of runs `ids` of `root`. */
async function sameData(root: string, ids: string[]): Promise<boolean> {
  const r = await runLedger(["compare", ...ids, "--root", root, "--json"]);
  equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).same_data;
}

Deno.test("compare: same_data needs one fingerprint that is not blank", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-same-data-" });
  try {
    await emitCreatedRuns(root, [
      { id: "fp-a1", fingerprint: "fp-1" },
      { id: "fp-a2", fingerprint: "fp-1" },
      { id: "fp-b", fingerprint: "fp-2" },
      { id: "blank-1", fingerprint: "" },
      { id: "blank-2", fingerprint: "" },
      { id: "spaces", fingerprint: "  " },
    ]);
    const same = (ids: string[]) => sameData(root, ids);
    deepEqual(
      [
        await same(["fp-a1", "fp-a2"]),
        await same(["fp-a1", "fp-b"]),
        await same(["blank-1", "blank-2"]),
        await same(["spaces", "blank-1"]),
      ],
      [true, false, false, false],
    );
    // The table says it too: not the same, for it does not know (not "no": see below).
    const table = await runLedger(["compare", "blank-1", "blank-2", "--root", root]);
    equal(table.code, 0, table.stderr);
    equal(/same data\s+unknown/.test(table.stdout), true, table.stdout);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A probe: the table said "same data  no" for runs without a fingerprint, which reads as "the data
// differed"; it does not know. --json keeps SPEC 11's boolean.
Deno.test("compare table: same data is unknown when a run has no fingerprint", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-same-data-table-" });
  try {
    await emitCreatedRuns(root, [
      { id: "fp-a1", fingerprint: "fp-1" },
      { id: "fp-a2", fingerprint: "fp-1" },
      { id: "fp-b", fingerprint: "fp-2" },
      { id: "blank-1", fingerprint: "" },
    ]);
    const row = async (ids: string[]) => {
      const r = await runLedger(["compare", ...ids, "--root", root]);
      equal(r.code, 0, r.stderr);
      return r.stdout.split("\n").find((l) => l.startsWith("same data"))?.replace(/\s+/g, " ")
        .trim();
    };
    equal(await row(["fp-a1", "fp-a2"]), "same data yes");
    equal(await row(["fp-a1", "fp-b"]), "same data no");
    equal(await row(["fp-a1", "blank-1"]), "same data unknown (a run has no data fingerprint)");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A probe: a run on the 10 calls of a --to window and a run on all 320 of the same file, or the
// same candles resampled to 5m, compared as the same data: the fingerprint hashed the files alone.
// Another: a run leaving out the calls entered more than a minute late, against one keeping them.
Deno.test("compare: runs of one data set with another window, interval or entry bound are not the same data", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-same-data-window-" });
  try {
    const root = `${dir}/ledger`;
    const { calls, candles } = await writeFixtures(dir);
    const runs: [string, string[]][] = [
      ["whole-1", []],
      ["whole-2", []],
      ["to-1", ["--to", "2026-01-05T00:00:10Z"]],
      ["to-2", ["--to", "2026-01-05T00:00:10Z"]],
      ["from", ["--from", "2026-01-05T00:00:10Z"]],
      ["resampled", ["--interval", "5m"]],
      ["delay-1m-1", ["--max-entry-delay", "1m"]],
      ["delay-1m-2", ["--max-entry-delay", "60000"]],
      ["delay-5m", ["--max-entry-delay", "5m"]],
    ];
    for (const [id, flags] of runs) {
      const r = await runLedger([
        ...["backtest", "path-only", "--root", root, "--run-id", id, "--no-index"],
        ...["--calls", calls, "--candles", candles, ...flags],
      ]);
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const same = (ids: string[]) => sameData(root, ids);
    deepEqual(
      [
        await same(["whole-1", "whole-2"]),
        await same(["to-1", "to-2"]),
        await same(["whole-1", "to-1"]),
        await same(["whole-1", "from"]),
        await same(["whole-1", "resampled"]),
        await same(["delay-1m-1", "delay-1m-2"]),
        await same(["whole-1", "delay-1m-1"]),
        await same(["delay-1m-1", "delay-5m"]),
      ],
      [true, true, false, false, false, true, false, false],
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
