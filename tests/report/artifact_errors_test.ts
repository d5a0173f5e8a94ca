/**
 * One run's artifact that cannot be read, or that the run recorded and is
 * gone, on real backtests (an audit: one unreadable `policy_results.parquet`
 * made `ledger report` fail for every run, exit 1 and no file, and `ledger ui`
 * answer that run's page and any compare with it a bare 500; a missing one
 * dropped the equity curve and histograms unsaid). The report is written,
 * with one warning line per file on stderr; the run's view says which file
 * could not be used and why, in place of what it would show; the UI answers
 * 200 with the same words; every other run's view is whole. Artifacts the
 * views never read (a path-only run's results, a sweep's `trials.parquet`)
 * change nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { charts, sections } from "./_page.ts";
import { escapeHtml } from "../../report/html.ts";
import { backtestRuns, startUi } from "./_fixture.ts";

/** The runs of the fixture: two policy runs, a path-only run and a sweep of one trial. */
const POLICY_A = "pol-a";
const POLICY_B = "pol-b";
const PATH_ONLY = "path-p";
const SWEEP = "sweep-s";

/** Make the four runs with real backtests on the sample data and index them. */
async function makeRuns(root: string): Promise<void> {
  const runs: [string, string[]][] = [
    [POLICY_A, ["policy", "--policy", '{"type":"fixed_stop","stopPct":0.3}']],
    [POLICY_B, ["policy", "--policy", '{"type":"fixed_stop","stopPct":0.2}']],
    [PATH_ONLY, ["path-only"]],
  ];
  await backtestRuns(root, runs);
  const sweep = await runLedger([
    "sweep",
    "policy",
    "--grid",
    '{"type":"fixed_stop","stopPct":[0.2,0.3]}',
    "--root",
    root,
    "--run-id",
    SWEEP,
    "--no-index",
  ]);
  assert.equal(sweep.code, 0, sweep.stderr);
  const rebuilt = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
}

/** The file `name` of `runId`'s run directory. */
function artifact(root: string, runId: string, name: string): string {
  return join(root, "artifacts", "runs", runId, name);
}

/** The problem lines of a piece of page. */
function problemLines(html: string): string[] {
  return [...html.matchAll(/<p class="artifact-problem"[^>]*>(.*?)<\/p>/g)].map((m) => m[1]);
}

/** `ledger report RUN... --out <root>/r.html`: exit code, stderr lines and the page. */
async function report(
  root: string,
  runIds: string[],
): Promise<{ code: number; warnings: string[]; html: string }> {
  const out = join(root, "r.html");
  await Deno.remove(out).catch(() => {});
  const res = await runLedger(["report", ...runIds, "--root", root, "--out", out]);
  const html = res.code === 0 ? await Deno.readTextFile(out) : "";
  return {
    code: res.code,
    warnings: res.stderr.split("\n").filter((l) => l !== ""),
    html: html || res.stderr,
  };
}

Deno.test("ledger report: one run's unreadable or missing artifact is said on its view only", async (t) => {
  await withTempDir(async (root) => {
    await makeRuns(root);
    const results = artifact(root, POLICY_A, "policy_results.parquet");
    const callers = artifact(root, POLICY_A, "caller_summary.parquet");
    const kept = join(root, "kept.parquet");
    await Deno.copyFile(results, kept);
    await Deno.writeTextFile(results, "garbage\n");
    await Deno.writeTextFile(callers, "garbage\n");
    // Files no view reads: nothing changes for them.
    await Deno.writeTextFile(artifact(root, PATH_ONLY, "path_metrics.parquet"), "garbage\n");
    await Deno.writeTextFile(artifact(root, SWEEP, "trials.parquet"), "garbage\n");

    await t.step("unreadable: written, one warning per file, the note where it was", async () => {
      const { code, warnings, html } = await report(root, [POLICY_A, POLICY_B, PATH_ONLY, SWEEP]);
      assert.equal(code, 0, html);
      assert.deepEqual(warnings, [
        `ledger report: warning: run ${POLICY_A}: ${results} could not be read: ` +
        "Invalid Input Error: File 'policy_results.parquet' too small to be a Parquet file",
        `ledger report: warning: run ${POLICY_A}: ${callers} could not be read: ` +
        "Invalid Input Error: File 'caller_summary.parquet' too small to be a Parquet file",
      ]);
      const views = sections(html);
      const a = views.get("run-0")!;
      assert.ok(a.includes(`<h1>${POLICY_A} `));
      assert.deepEqual(problemLines(a), [
        escapeHtml(
          `${results} could not be read: Invalid Input Error: ` +
            "File 'policy_results.parquet' too small to be a Parquet file",
        ),
        escapeHtml(
          `${callers} could not be read: Invalid Input Error: ` +
            "File 'caller_summary.parquet' too small to be a Parquet file",
        ),
      ]);
      // In place of the equity curve and histograms: no chart of them for run a.
      assert.ok(a.includes("<h2>Equity curve and histograms</h2>"));
      const data = charts(html);
      assert.ok(!("run-0-equity" in data) && !("run-0-returns" in data));
      // The rest of a's view stands: its phases, and its summary's per-caller table.
      assert.equal((data["run-0-phases"] as unknown[]).length, 7);
      assert.ok(a.includes("Per-caller table") && a.includes("<h2>Provenance</h2><pre>"));
      // Every other run's view is whole.
      for (const id of ["run-1", "run-2", "run-3"]) {
        assert.deepEqual(problemLines(views.get(id)!), [], id);
      }
      const b = data["run-1-equity"] as { series: { t: number[] }[] };
      assert.ok(b.series[0].t.length > 10);
      assert.ok((data["run-1-callers"] as unknown[]).length > 0);
      assert.ok(views.get("run-3")!.includes("<h2>Sweep</h2>"));
      // The compare of the runs: a is left out of the equity curves, and said so.
      const compare = views.get("compare")!;
      assert.deepEqual(problemLines(compare).length, 1);
      assert.ok(problemLines(compare)[0].startsWith(`<strong>A</strong>: ${results} could not`));
      const curves = data["compare-equity"] as { series: { label: string }[] };
      // The sweep's curve is its best trial's.
      assert.deepEqual(curves.series.map((s) => s.label), ["B", "D"]);
    });

    await t.step("the whole report, no run named: written all the same", async () => {
      const { code, warnings, html } = await report(root, []);
      assert.equal(code, 0, html);
      assert.equal(warnings.length, 2);
      assert.ok(html.includes("<h1>Runs</h1>"));
    });

    await t.step("missing (moved away): a one-line note, a warning", async () => {
      await Deno.remove(results);
      await Deno.remove(callers);
      const { code, warnings, html } = await report(root, [POLICY_A, POLICY_B]);
      assert.equal(code, 0, html);
      const missing = (path: string, name: string) =>
        `no ${name}: the run recorded it, but ${path} is not there`;
      assert.deepEqual(warnings, [
        `ledger report: warning: run ${POLICY_A}: ${missing(results, "policy_results.parquet")}`,
        `ledger report: warning: run ${POLICY_A}: ${missing(callers, "caller_summary.parquet")}`,
      ]);
      const views = sections(html);
      assert.deepEqual(problemLines(views.get("run-0")!), [
        escapeHtml(missing(results, "policy_results.parquet")),
        escapeHtml(missing(callers, "caller_summary.parquet")),
      ]);
      assert.deepEqual(problemLines(views.get("run-1")!), []);
    });

    await t.step("a run directory that is a file: its view says so, the others stand", async () => {
      const dir = join(root, "artifacts", "runs", PATH_ONLY);
      await Deno.remove(dir, { recursive: true });
      await Deno.writeTextFile(dir, "not a directory\n");
      await Deno.copyFile(kept, results);
      const { code, warnings, html } = await report(root, [PATH_ONLY, POLICY_A]);
      assert.equal(code, 0, html);
      const manifest = artifact(root, PATH_ONLY, "manifest.json");
      // Only what the view reads: the manifest (the path-only results are not read).
      assert.equal(warnings.length, 2, warnings.join("\n")); // and a's caller summary, still gone
      assert.match(
        warnings[0],
        new RegExp(
          `^ledger report: warning: run ${PATH_ONLY}: .*manifest\\.json could not be read: `,
        ),
      );
      const views = sections(html);
      assert.equal(problemLines(views.get("run-0")!).length, 1);
      assert.ok(problemLines(views.get("run-0")!)[0].startsWith(escapeHtml(manifest)));
      // a's policy results are back: its curve is drawn again.
      assert.ok("run-1-equity" in charts(html));
    });
  });
});

Deno.test("ledger ui: a run with an unreadable artifact answers 200 with the note", async () => {
  await withTempDir(async (root) => {
    await makeRuns(root);
    const results = artifact(root, POLICY_A, "policy_results.parquet");
    await Deno.writeTextFile(results, "garbage\n");
    const note = escapeHtml(
      `${results} could not be read: Invalid Input Error: ` +
        "File 'policy_results.parquet' too small to be a Parquet file",
    );
    const ui = await startUi(root);
    let stopped = false;
    try {
      const get = async (path: string) => {
        const res = await fetch(`${ui.url}${path}`);
        return { status: res.status, html: await res.text() };
      };
      const a = await get(`/run/${POLICY_A}`);
      assert.equal(a.status, 200, a.html);
      assert.deepEqual(problemLines(a.html), [note]);
      assert.ok(!("run-equity" in charts(a.html)));
      const compare = await get(`/compare?run=${POLICY_A}&run=${POLICY_B}`);
      assert.equal(compare.status, 200, compare.html);
      assert.deepEqual(problemLines(compare.html), [`<strong>A</strong>: ${note}`]);
      const curves = charts(compare.html)["compare-equity"] as { series: { label: string }[] };
      assert.deepEqual(curves.series.map((s) => s.label), ["B"]);
      const b = await get(`/run/${POLICY_B}`);
      assert.equal(b.status, 200);
      assert.deepEqual(problemLines(b.html), []);
      assert.ok("run-equity" in charts(b.html));
      const overview = await get("/");
      assert.equal(overview.status, 200);
      const done = await ui.stop();
      stopped = true;
      assert.equal(done.stderr, "", "an unreadable artifact is not a server fault to log");
    } finally {
      if (!stopped) await ui.stop();
    }
  });
});
