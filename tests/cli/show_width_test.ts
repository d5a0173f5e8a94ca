/**
 * `ledger show` fits the terminal (issue 15: 80 columns when not a TTY). An
 * audit found phase lines of up to 142 characters, artifact lines of 108,
 * the equity line at 87 and sweep trial lines of 306 on a pipe. Long lines
 * are cut with an ellipsis; `--json` has everything whole.
 */
import { ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";
import { writeFixtures } from "../backtest/_fixtures.ts";

Deno.test("ledger show of a policy run and a sweep fits in 80 columns on a pipe", async () => {
  await withTempDir(async (dir) => {
    const { calls, candles } = await writeFixtures(dir);
    // A long root makes the artifact paths long too.
    const root = join(dir, "a-root-whose-name-makes-every-artifact-path-longer-than-a-line");
    const inputs = ["--root", root, "--calls", calls, "--candles", candles, "--no-index"];
    let r = await runLedger([
      "backtest",
      "policy",
      ...inputs,
      "--run-id",
      "width-policy",
      "--policy",
      '{"type":"trailing_stop","activationPct":0.25,"trailPct":0.2,"hardStopPct":0.4}',
    ]);
    equal(r.code, 0, r.stderr);
    r = await runLedger([
      "sweep",
      "policy",
      ...inputs,
      "--run-id",
      "width-sweep",
      "--grid",
      '{"type":"trailing_stop","activationPct":[0.25,0.5],"trailPct":[0.2,0.3],"hardStopPct":[0.4,0.6]}',
    ]);
    equal(r.code, 0, r.stderr);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    for (const run of ["width-policy", "width-sweep"]) {
      const shown = await runLedger(["show", run, "--root", root]);
      equal(shown.code, 0, shown.stderr);
      const lines = shown.stdout.trimEnd().split("\n");
      ok(lines.length > 10, shown.stdout);
      for (const line of lines) ok([...line].length <= 80, `${run}: ${[...line].length}: ${line}`);
      ok(lines.some((l) => l.endsWith("…")), `${run}: something was cut`);
      const json = await runLedger(["show", run, "--root", root, "--json"]);
      equal(json.code, 0, json.stderr);
      ok(JSON.parse(json.stdout).phases.length > 0);
    }
  });
});
