/**
 * `ledger export` stopped by SIGTERM or SIGINT (a bad-input audit: it left
 * its temporary file beside `--out`, e.g. `.out.parquet.tmp-1148-31f11f18`).
 */
import { ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runLedger } from "../_helpers.ts";

/** Trials in the index: enough for the export to run a while. */
const TRIALS = 60_000;
/** Exports tried until a signal lands while one runs. */
const ATTEMPTS_MAX = 6;

Deno.test("export: SIGTERM/SIGINT remove the temporary file and leave --out as it was", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-export-signal-" });
  try {
    const root = join(dir, "root");
    const day = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(day, { recursive: true });
    const t0 = Date.UTC(2026, 0, 20);
    const lines = [JSON.stringify({
      event_type: "run.created",
      event_id: "c",
      timestamp_ms: t0,
      run_id: "s",
      run_type: "sweep",
      config: {},
      data_fingerprint: "f",
    })];
    for (let i = 0; i < TRIALS; i++) {
      lines.push(JSON.stringify({
        event_type: "trial.recorded",
        event_id: `t${i}`,
        timestamp_ms: t0 + 1 + i,
        run_id: "s",
        trial_id: `t${i}`,
        params: { stopPct: i / TRIALS, takeProfitPct: i % 7, label: `p${i % 13}` },
        metrics: { sharpe: (i % 101) / 10, mean_return_bps: i % 977 },
      }));
    }
    await Deno.writeTextFile(join(day, "part-000001.jsonl"), lines.join("\n") + "\n");
    const built = await runLedger(["rebuild-index", "--root", root]);
    equal(built.code, 0, built.stderr);
    const outDir = join(dir, "out");
    await Deno.mkdir(outDir);
    const out = join(outDir, "trials.csv");
    let stopped = 0;
    for (let attempt = 0; attempt < ATTEMPTS_MAX && stopped < 2; attempt++) {
      const signal: Deno.Signal = stopped === 0 ? "SIGTERM" : "SIGINT";
      const child = new Deno.Command(Deno.execPath(), {
        args: denoScriptArgs(CLI_PATH, [
          ...["export", "trials", "--root", root, "--format", "csv", "--out", out],
        ]),
        env: { LEDGER_ROOT: "" },
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = new Response(child.stderr).text();
      // Signal as soon as the temporary file is there.
      for (let i = 0; i < 20_000 && [...Deno.readDirSync(outDir)].length === 0; i++) {
        await new Promise((r) => setTimeout(r, 1));
      }
      child.kill(signal);
      const status = await child.status;
      if (status.code === 0) {
        await Deno.remove(out); // finished first: try again
        continue;
      }
      stopped++;
      equal(status.code, signal === "SIGTERM" ? 143 : 130, await stderr);
      equal(
        (await stderr).trim(),
        `ledger export: interrupted by ${signal}; nothing written to ${out}`,
      );
      equal([...Deno.readDirSync(outDir)].map((e) => e.name).join(), "", "nothing left");
    }
    ok(stopped === 2, `a signal landed during ${stopped} of ${ATTEMPTS_MAX} exports`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
