import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { EventEmitter } from "../../ledger/emitter.ts";
import { runPathOnly } from "../../backtest/path_only.ts";
import { runPolicy } from "../../backtest/policy.ts";
import { runSweep } from "../../backtest/sweep.ts";
import { rerunRun, resolveRerunId } from "../../backtest/rerun.ts";
import { exists } from "../../ledger/exists.ts";
import { runEvents, writeFixtures } from "../backtest/_fixtures.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

async function ledger(args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "-A", CLI, "rerun", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function runDirs(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(`${root}/artifacts/runs`)) names.push(e.name);
  return names.sort();
}

Deno.test("ledger rerun: repeats runs from their manifests", async (t) => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_rerun_test_" });
  const root = `${dir}/ledger`;
  try {
    const inputs = await writeFixtures(dir);
    const emitter = new EventEmitter({ root });
    const common = { root, ...inputs, emitter, gitCwd: dir };
    await runPolicy({
      ...common,
      runId: "pol-1",
      policy: { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 },
      feeBps: 25,
    });
    await runPathOnly({ ...common, runId: "path-1" });
    await runSweep({
      ...common,
      runId: "sweep-1",
      grid: { type: "time_stop", maxHoldMs: [60_000, 180_000] },
    });

    await t.step("a policy run reruns identically (CLI, --json)", async () => {
      const r = await ledger([
        "pol-1",
        "--root",
        root,
        "--run-id",
        "pol-1-again",
        "--no-index",
        "--json",
      ]);
      equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      equal(report.rerun_run_id, "pol-1-again");
      equal(report.run_type, "policy");
      equal(report.identical, true);
      deepEqual(Object.keys(report.artifacts), ["caller_summary", "policy_results"]);
      ok(Object.values(report.artifacts).every((a) => (a as { same: boolean }).same));
      const manifest = JSON.parse(
        await Deno.readTextFile(`${root}/artifacts/runs/pol-1-again/manifest.json`),
      );
      equal(manifest.config.fee_bps, 25);
      deepEqual(manifest.config.policy, { type: "fixed_stop", stopPct: 0.2, takeProfitPct: 0.5 });
      // The rerun names the run it repeats in the log (a probe: only the printed report did),
      // after its run.completed; the original gets no event.
      const events = await runEvents(root, "pol-1-again");
      const tagged = events.filter((e) => e.event_type === "run.tagged");
      deepEqual(tagged.map((e) => (e as unknown as { tags: unknown }).tags), [
        { rerun_of: "pol-1" },
      ]);
      equal(events.at(-1)!.event_type, "run.tagged");
      equal((await runEvents(root, "pol-1")).some((e) => e.event_type === "run.tagged"), false);
    });

    await t.step("path-only and sweep runs rerun identically", async () => {
      const path = await rerunRun("path-1", { root, emitter, gitCwd: dir });
      equal(path.report.identical, true);
      deepEqual(Object.keys(path.report.artifacts), ["path_metrics"]);
      const sweep = await rerunRun("sweep-1", { root, emitter, gitCwd: dir });
      equal(sweep.report.identical, true);
      deepEqual(Object.keys(sweep.report.artifacts), ["best_trial_results", "trials"]);
      ok(Object.values(sweep.report.artifacts).every((a) => (a as { same: boolean }).same));
      equal(sweep.result.summary.trials, 2);
    });

    // SPEC 11: a unique prefix names the run; an ambiguous one is a usage error listing the
    // candidates; an unknown run is exit 1. Resolved from the run folders: there is no index.
    await t.step("a unique prefix reruns its run, with no index", async () => {
      equal(await exists(`${root}/index`), false, "no index was built");
      // "path-" names path-1 alone (the rerun above is path_only-<time>-<hex>).
      const r = await ledger([
        "path-",
        "--root",
        root,
        "--run-id",
        "path-1-b",
        "--no-index",
        "--json",
      ]);
      equal(r.code, 0, r.stderr);
      const report = JSON.parse(r.stdout);
      equal(report.original_run_id, "path-1");
      equal(report.identical, true);
    });

    await t.step("an exact id wins over the longer ids it prefixes", async () => {
      equal(await resolveRerunId(root, "pol-1"), "pol-1"); // pol-1-again exists too
    });

    await t.step("an ambiguous prefix: exit 2, one line listing the candidates", async () => {
      const before = await runDirs(root);
      const r = await ledger(["pol", "--root", root, "--no-index"]);
      equal(r.code, 2, r.stderr);
      equal(r.stderr.trim().split("\n").length, 1);
      match(r.stderr, /Run id prefix "pol" is ambiguous: it matches pol-1, pol-1-again\n$/);
      deepEqual(await runDirs(root), before);
    });

    await t.step("an unknown run: exit 1, one line", async () => {
      const r = await ledger(["no-such-run", "--root", root, "--no-index"]);
      equal(r.code, 1, r.stderr);
      equal(r.stderr.trim().split("\n").length, 1);
      match(r.stderr, /Run "no-such-run" is not among the runs with a manifest\.json in /);
    });

    await t.step("a run folder without a manifest: exit 1 naming it", async () => {
      await Deno.mkdir(`${root}/artifacts/runs/crashed-1`);
      const exact = await ledger(["crashed-1", "--root", root, "--no-index"]);
      equal(exact.code, 1, exact.stderr);
      match(
        exact.stderr,
        /Run crashed-1 has no manifest at \S+: it has not completed \(a run writes its manifest at its end; one still running, or killed before its end, has none\), so there are no results to compare\n$/,
      );
      // Its prefix names it too, and says the same (it reran nothing else).
      const prefix = await ledger(["crash", "--root", root, "--no-index"]);
      equal(prefix.code, 1, prefix.stderr);
      match(prefix.stderr, /Run crashed-1 has no manifest at \S+: it has not completed/);
      // A probe: a prefix of a killed run and of a completed one reran the completed one, where
      // `show` called the prefix ambiguous.
      await Deno.mkdir(`${root}/artifacts/runs/pol-2-killed`);
      const before = await runDirs(root);
      const both = await ledger(["pol", "--root", root, "--no-index"]);
      equal(both.code, 2, both.stderr);
      match(
        both.stderr,
        /Run id prefix "pol" is ambiguous: it matches pol-1, pol-1-again, pol-2-killed\n$/,
      );
      deepEqual(await runDirs(root), before);
      await Deno.remove(`${root}/artifacts/runs/pol-2-killed`);
      await Deno.remove(`${root}/artifacts/runs/crashed-1`);
      // A probe: killed between its run.completed and putting its staged manifest in place,
      // the run was "not completed" where the index said completed. Said, with the way out.
      await Deno.mkdir(`${root}/artifacts/runs/crashed-2`);
      const staged = `${root}/artifacts/runs/crashed-2/manifest.json.tmp-0a1b2c3d`;
      await Deno.writeTextFile(
        staged,
        JSON.stringify({ run_id: "crashed-2", status: "completed" }),
      );
      const late = await ledger(["crashed-2", "--root", root, "--no-index"]);
      equal(late.code, 1, late.stderr);
      equal(late.stderr.trim().split("\n").length, 1, late.stderr);
      match(
        late.stderr,
        /its process died as it put the manifest in place \(\S+tmp-0a1b2c3d holds it\)/,
      );
      match(late.stderr, /`mv \S+tmp-0a1b2c3d \S+crashed-2\/manifest\.json` finishes that/);
      await Deno.remove(`${root}/artifacts/runs/crashed-2`, { recursive: true });
    });

    await t.step("a run that did not complete: exit 1, nothing written", async () => {
      // A probe: an interrupted sweep's rerun was refused, which --help did not say (it does).
      const manifest = JSON.parse(
        await Deno.readTextFile(`${root}/artifacts/runs/pol-1/manifest.json`),
      );
      await Deno.mkdir(`${root}/artifacts/runs/failed-1`);
      await Deno.writeTextFile(
        `${root}/artifacts/runs/failed-1/manifest.json`,
        JSON.stringify({ ...manifest, run_id: "failed-1", status: "failed" }),
      );
      const before = [...Deno.readDirSync(`${root}/artifacts/runs`)].length;
      const r = await ledger(["failed-1", "--root", root, "--no-index"]);
      equal(r.code, 1, r.stderr);
      match(r.stderr, /Run failed-1 did not complete \(failed\): there are no results to compare/);
      equal([...Deno.readDirSync(`${root}/artifacts/runs`)].length, before, "no run made");
      await Deno.remove(`${root}/artifacts/runs/failed-1`, { recursive: true });
    });

    await t.step("a manifest that is no run manifest: exit 1 naming the file", async () => {
      // A bad-input audit: `{}` said "Run zz-1 is a undefined run".
      await Deno.mkdir(`${root}/artifacts/runs/hand-1`);
      for (const text of ["{}", "[]", '{"run_type":"policy","config":"x"}']) {
        await Deno.writeTextFile(`${root}/artifacts/runs/hand-1/manifest.json`, text);
        const r = await ledger(["hand-1", "--root", root, "--no-index"]);
        equal(r.code, 1, r.stderr);
        equal(r.stderr.trim().split("\n").length, 1);
        match(r.stderr, /Manifest \S+hand-1\/manifest\.json is not a run manifest/);
      }
      await Deno.remove(`${root}/artifacts/runs/hand-1`, { recursive: true });
    });

    // A probe appended a byte to a run's output: the byte-identical rerun was "NOT identical".
    await t.step(
      "an output changed after its run: the rerun is compared with what it wrote",
      async () => {
        const manifest = JSON.parse(
          await Deno.readTextFile(`${root}/artifacts/runs/pol-1/manifest.json`),
        );
        const recorded = manifest.outputs.policy_results.sha256;
        match(recorded, /^[0-9a-f]{64}$/);
        await Deno.writeTextFile(`${root}/artifacts/runs/pol-1/policy_results.parquet`, "x", {
          append: true,
        });
        const r = await ledger(["pol-1", "--root", root, "--no-index"]);
        equal(r.code, 0, r.stderr);
        match(r.stdout, /: identical \(2 artifacts, same sha256\)\n/);
        match(
          r.stdout,
          new RegExp(
            `  policy_results: same \\(${recorded.slice(0, 12)} -> ${
              recorded.slice(0, 12)
            }\\); the run's file changed since the run \\(now [0-9a-f]{12}\\)\n`,
          ),
        );
        const json = await ledger(["pol-1", "--root", root, "--no-index", "--json"]);
        const a = JSON.parse(json.stdout).artifacts.policy_results;
        deepEqual([a.same, a.original_changed, a.recorded_sha256], [true, true, recorded]);
        ok(a.original_sha256 !== recorded);
      },
    );

    await t.step("a run recorded without output sha256s: a changed file is not known", async () => {
      const path = `${root}/artifacts/runs/path-1/manifest.json`;
      const manifest = JSON.parse(await Deno.readTextFile(path));
      delete manifest.outputs.path_metrics.sha256; // as manifests before 0.8
      await Deno.writeTextFile(path, JSON.stringify(manifest));
      const same = await ledger(["path-1", "--root", root, "--no-index", "--json"]);
      const before = JSON.parse(same.stdout);
      equal(before.identical, true);
      deepEqual(
        [
          before.artifacts.path_metrics.original_changed,
          before.artifacts.path_metrics.recorded_sha256,
        ],
        [null, null],
      );
      await Deno.writeTextFile(`${root}/artifacts/runs/path-1/path_metrics.parquet`, "x", {
        append: true,
      });
      const r = await ledger(["path-1", "--root", root, "--no-index"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /: NOT known to be identical \(a file of the run changed since/);
      match(
        r.stdout,
        / {2}path_metrics: differs \(.*\); the run's file changed since the run \(its size is not the recorded one\), and no sha256 of it was recorded: not known\n/,
      );
    });

    await t.step("a rerun is found from the index by its tag rerun_of", async () => {
      await emitter.flush(); // the library's reruns above wrote it through this emitter
      const built = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--no-prompt", "-A", CLI, "rebuild-index", "--root", root],
        stdout: "null",
        stderr: "piped",
      }).output();
      equal(built.code, 0, new TextDecoder().decode(built.stderr));
      const found = await new Deno.Command(Deno.execPath(), {
        args: [
          ...["run", "--no-prompt", "-A", CLI, "runs", "--root", root, "--json"],
          ...["--where", "tags.rerun_of = 'sweep-1'"],
        ],
        stdout: "piped",
      }).output();
      equal(found.code, 0);
      const ids = JSON.parse(new TextDecoder().decode(found.stdout))
        .map((r: { run_id: string }) => r.run_id);
      equal(ids.length, 1, JSON.stringify(ids));
      ok(ids[0].startsWith("sweep-"), ids[0]);
    });

    await t.step("a changed input refuses the rerun and writes nothing", async () => {
      await emitter.close();
      const before = await runDirs(root);
      await Deno.writeTextFile(inputs.candles, "mint,ts,open,high,low,close,volume\n", {
        append: true,
      });
      const r = await ledger(["pol-1", "--root", root, "--no-index"]);
      equal(r.code, 1);
      equal(r.stderr.trim().split("\n").length, 1);
      match(r.stderr, /Input candles file .*candles\.csv changed since run pol-1: sha256 was/);
      deepEqual(await runDirs(root), before);
    });
    await emitter.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** The HEAD commit of the checkout `cwd`. */
async function gitHead(cwd: string): Promise<string> {
  const out = await new Deno.Command("git", { args: ["rev-parse", "HEAD"], cwd, stdout: "piped" })
    .output();
  equal(out.code, 0);
  return new TextDecoder().decode(out.stdout).trim();
}

async function git(cwd: string, ...args: string[]): Promise<void> {
  const out = await new Deno.Command("git", {
    args: ["-c", "user.email=t@t", "-c", "user.name=t", ...args],
    cwd,
    stdout: "null",
    stderr: "piped",
  }).output();
  equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

// A black-box audit: a run started with relative input paths could not be rerun from another
// directory ("no longer exists"), and a run made from uncommitted changes reran as "(same)".
Deno.test("ledger rerun: from another directory, and a dirty tree is never 'same'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger_rerun_cwd_" });
  try {
    const root = `${dir}/ledger`;
    const work = `${dir}/work`;
    await Deno.mkdir(work);
    const inputs = await writeFixtures(work);
    await git(work, "init", "-q");
    await git(work, "add", ".");
    await git(work, "commit", "-q", "-m", "fixtures");
    await Deno.writeTextFile(`${work}/strategy.txt`, "an uncommitted change\n");
    // Relative input paths, from the work directory (another git checkout, with a dirty tree).
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--no-prompt", "-A", CLI, "backtest", "path-only", "--root", root],
        ...["--calls", "calls.csv", "--candles", "candles.csv", "--run-id", "rel-1", "--no-index"],
      ],
      cwd: work,
      stdout: "null",
      stderr: "piped",
    }).output();
    equal(run.code, 0, new TextDecoder().decode(run.stderr));
    const manifest = JSON.parse(
      await Deno.readTextFile(`${root}/artifacts/runs/rel-1/manifest.json`),
    );
    equal(manifest.inputs.calls.path, `${work}/calls.csv`, "recorded absolute");
    // The provenance is the ledger code's, not the working directory's repository (a probe).
    ok(manifest.git.commit !== await gitHead(work), "not the working directory's commit");
    // The rerun, from the test's own directory.
    const again = await ledger(["rel-1", "--root", root, "--no-index", "--run-id", "rel-1-again"]);
    equal(again.code, 0, again.stderr);
    // A run recorded from a dirty tree (the library's gitCwd) never reruns as the same code.
    const emitter = new EventEmitter({ root });
    await runPathOnly({ root, ...inputs, emitter, runId: "dirty-1", gitCwd: work });
    await emitter.close();
    const r = await ledger(["dirty-1", "--root", root, "--no-index", "--run-id", "dirty-1-again"]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /recorded [0-9a-f]+ with uncommitted changes/);
    const report = (await rerunRun("dirty-1", { root, gitCwd: work, runId: "dirty-1-b" })).report;
    equal(report.identical, true);
    equal(report.git.recorded_dirty, true);
    equal(report.git.same, false, "the same commit with uncommitted changes is not the same code");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
