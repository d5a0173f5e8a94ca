/**
 * What `ledger report` holds of the runs asked for, and says when it holds
 * less (a probe of the report):
 *
 * - 13 runs named made a compare of 12 under "Compare 12 runs", the 13th
 *   unsaid: the page, the terminal line and a warning now say which;
 * - 601 runs named made a report of 500 "(the newest; name runs or use
 *   --where for others)": more than 500 named is refused;
 * - a `--where` matching only archived runs wrote "0 runs", no word why,
 *   and no flag could include them: they are counted, `--all` shows them;
 * - the compare legend left out an archived run's badge;
 * - the config compare took `-0` and `0` for one value (`ledger compare
 *   --json` lists them as a difference).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../../ledger/exists.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { emitAndIndex } from "./_fixture.ts";

/** Runs in the index: two past the compare's 12. */
const RUNS = 14;
const T0 = Date.UTC(2026, 0, 5);
const id = (i: number) => `run${String(i).padStart(2, "0")}`;

Deno.test("report: runs named past the compare's 12 or the report's 500, archived runs", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    await emitAndIndex(root, [
      ...Array.from({ length: RUNS }, (_, i) => [
        {
          event_type: "run.created",
          run_id: id(i),
          run_type: "policy",
          config: { k: i },
          data_fingerprint: "fp",
          timestamp_ms: T0 + 1000 * i,
        },
        {
          event_type: "run.completed",
          run_id: id(i),
          summary: { win_rate: i / 20 },
          artifact_paths: {},
          timestamp_ms: T0 + 1000 * i + 500,
        },
      ]).flat(),
      { event_type: "run.archived", run_id: id(0), timestamp_ms: T0 + 100_000 },
      { event_type: "run.archived", run_id: id(13), timestamp_ms: T0 + 100_001 },
    ]);
    const out = join(dir, "report.html");
    const named = Array.from({ length: RUNS }, (_, i) => id(i));

    const all = await runLedger(["report", ...named, "--root", root, "--out", out]);
    assert.equal(all.code, 0, all.stderr);
    assert.match(all.stdout, /^Wrote .*: 14 runs and the compare of the first 12, /);
    assert.equal(
      all.stderr,
      "ledger report: warning: the compare holds the first 12 of the 14 runs named (at most " +
        "12); each has its page\n",
    );
    const page = await Deno.readTextFile(out);
    const compare = page.slice(page.indexOf(`<section class="view" id="compare">`));
    assert.match(
      compare,
      /^<section class="view" id="compare"><h1>Compare 12 runs<\/h1><p class="muted" id="compare-capped">The first 12 of the 14 runs named: /,
    );
    // The legend: run00 (archived) with its badge, run11 the last, run12 and run13 not there.
    const legend = compare.slice(0, compare.indexOf("</table>"));
    assert.match(
      legend,
      /run00<\/a><\/td><td>policy<\/td><td><span [^>]*>completed<\/span> <span [^>]*>archived<\/span><\/td>/,
    );
    assert.match(legend, />run11</);
    assert.doesNotMatch(legend, />run1[23]</);
    // Every run named has its page.
    assert.equal(page.match(/<section class="view" id="run-\d+">/g)?.length, RUNS);

    // Past the report's 500: refused, nothing written.
    await Deno.remove(out);
    const many = Array.from({ length: 501 }, (_, i) => `r${i}`);
    const refused = await runLedger(["report", ...many, "--root", root, "--out", out]);
    assert.equal(refused.code, 2);
    assert.equal(
      refused.stderr,
      "ledger report: 501 runs named: a report holds at most 500 (name fewer, or see them all " +
        "with ledger ui or ledger runs)\n",
    );
    assert.equal(await exists(out), false);

    // Archived runs: left out of a --where and of the newest runs, counted; --all shows them.
    const where = ["--where", "config.k >= 12", "--root", root, "--out", out];
    const hidden = await runLedger(["report", ...where]);
    assert.equal(hidden.code, 0, hidden.stderr);
    assert.match(hidden.stdout, /^Wrote .*: 1 run \(1 archived, shown with --all\), /);
    const shown = await runLedger(["report", ...where, "--all"]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Wrote .*: 2 runs, /);
    assert.match(await Deno.readTextFile(out), /<section class="view" id="run-1"><h1>run12 /);
    const newest = await runLedger(["report", "--root", root, "--out", out]);
    assert.match(newest.stdout, /^Wrote .*: 12 runs \(2 archived, shown with --all\), /);
    const newestAll = await runLedger(["report", "--all", "--root", root, "--out", out]);
    assert.match(newestAll.stdout, /^Wrote .*: 14 runs, /);
    // Named runs are shown, archived or not, and nothing is said of the others.
    const pair = await runLedger(["report", id(13), id(0), "--root", root, "--out", out]);
    assert.match(pair.stdout, /^Wrote .*: 2 runs and their compare, /);
  });
});

Deno.test("report: the config compare tells -0 from 0", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    // As Python writes them: json.dumps(-0.0) is -0.0.
    const lines = [
      `{"event_type": "run.created", "run_id": "nz1", "run_type": "policy", ` +
      `"config": {"n": -0.0, "same": 1}, "data_fingerprint": "f", "timestamp_ms": ${T0}}`,
      `{"event_type": "run.created", "run_id": "nz2", "run_type": "policy", ` +
      `"config": {"n": 0, "same": 1}, "data_fingerprint": "f", "timestamp_ms": ${T0 + 1}}`,
    ];
    const emitted = await runLedger(["emit", "--stdin", "--root", root], {
      stdin: lines.join("\n") + "\n",
    });
    assert.equal(emitted.code, 0, emitted.stderr);
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const out = join(dir, "nz.html");
    const made = await runLedger(["report", "nz1", "nz2", "--root", root, "--out", out]);
    assert.equal(made.code, 0, made.stderr);
    const page = await Deno.readTextFile(out);
    const compare = page.slice(page.indexOf(`id="compare"`), page.indexOf(`id="run-0"`));
    assert.match(
      compare,
      /<tr><td class="id">n<\/td><td class="num val">-0<\/td><td class="num val">0<\/td><\/tr>/,
    );
    assert.doesNotMatch(compare, /<td class="id">same<\/td>/);
  });
});
