/**
 * `ledger rebuild-index` says, without `--verbose`, which entries of the
 * events directory it passes over: a folder `day=2026-1-5` (a writer that
 * left out a zero) or `day=20260120` is not part of the log (SPEC 3), and
 * the events in it never reach the index. A probe: both were skipped
 * unsaid, their runs missing from `ledger runs`.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { quote, sh } from "../_tmpfs.ts";

Deno.test("rebuild-index warns of day folders it does not read, and stays quiet without them", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-a.jsonl", fullRun("kept", T0));
    const clean = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(clean.code, 0, clean.stderr);
    assert.equal(clean.stderr, "");

    await writePart(root, "day=2026-1-20/part-b.jsonl", fullRun("lost-1", T0 + 1_000));
    await writePart(root, "day=20260120/part-c.jsonl", fullRun("lost-2", T0 + 2_000));
    for (const flags of [[], ["--full"]]) {
      const r = await runLedger(["rebuild-index", "--root", root, ...flags]);
      assert.equal(r.code, 0, r.stderr); // a warning, not a failure: the log is indexed
      const lines = r.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.equal(
        lines[0],
        "ledger rebuild-index: warning: 2 entries of the events directory are not part of the " +
          "log, and no event in them is indexed: day=2026-1-20: not a day folder (a directory " +
          "day=YYYY-MM-DD); day=20260120: not a day folder (a directory day=YYYY-MM-DD)",
      );
    }
    const runs = await runLedger(["runs", "--root", root, "--json"]);
    assert.equal(runs.code, 0, runs.stderr);
    assert.deepEqual(JSON.parse(runs.stdout).map((r: { run_id: string }) => r.run_id), ["kept"]);
  });
});

Deno.test("the daemon logs the entries it does not read, with each rebuild", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-a.jsonl", fullRun("kept", T0));
    await writePart(root, "day=2026-1-20/part-b.jsonl", fullRun("lost", T0 + 1_000));
    const cli = new URL("../../cli/ledger.ts", import.meta.url).pathname;
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "daemon", "--root", root, "--interval", "0.2"],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const stderr = new Response(child.stderr).text();
    let out = "";
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    const end = Date.now() + 30_000;
    try {
      while (!/rebuild (full|incremental)/.test(out) && Date.now() < end) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
    } finally {
      child.kill("SIGTERM");
      // The rest of stdout, to its end.
      for (let r = await reader.read(); !r.done; r = await reader.read()) out += r.value;
    }
    const status = await child.status;
    assert.equal(status.code, 0, await stderr);
    assert.match(
      out,
      /1 entry of the events directory is not part of the log, and no event in it is indexed: day=2026-1-20: not a day folder/,
    );
  });
});

// A probe: a part whose name is not UTF-8 (Latin-1 `é`, a byte Deno lists as U+FFFD) was left out
// of the index with no word, even under --verbose, where verify warned of it.
Deno.test("rebuild-index warns of a part whose name is not UTF-8", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-a.jsonl", fullRun("kept", T0));
    const day = `${root}/events/day=2026-01-20`;
    const made = await sh(
      `cp ${quote(`${day}/part-a.jsonl`)} "$(printf '%s/latin1-\\351.jsonl' ${quote(day)})"`,
    );
    assert.equal(made.code, 0, made.stderr);
    assert.equal([...Deno.readDirSync(day)].length, 2);
    for (const flags of [[], ["--full"]]) {
      const r = await runLedger(["rebuild-index", "--root", root, ...flags]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stderr.trimEnd(),
        "ledger rebuild-index: warning: 1 entry of the events directory is not part of the " +
          "log, and no event in it is indexed: day=2026-01-20/latin1-\uFFFD.jsonl: its name is " +
          "not valid UTF-8, so no path reaches it (rename it)",
      );
    }
    // A review: beside a file named with U+FFFD itself (UTF-8), whose name Deno lists alike, the
    // path reached that one, which was read twice (verify: a duplicate of itself) and the other
    // not said.
    await Deno.writeTextFile(
      `${day}/latin1-\uFFFD.jsonl`,
      JSON.stringify({ ...fullRun("utf8", T0 + 5_000)[0] }) + "\n",
    );
    const r = await runLedger(["rebuild-index", "--root", root, "--full"]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /latin1-\uFFFD\.jsonl: its name is not valid UTF-8/);
    const runs = await runLedger(["runs", "--root", root, "--json"]);
    assert.deepEqual(
      JSON.parse(runs.stdout).map((x: { run_id: string }) => x.run_id).sort(),
      ["kept", "utf8"],
    );
    const verified = await runLedger(["verify", "--root", root]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /latin1-\uFFFD\.jsonl: the file name is not valid UTF-8/);
    assert.doesNotMatch(verified.stdout, /duplicate/);
  });
});
