import { ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { denoScriptArgs, REPO_ROOT } from "../_helpers.ts";
import { exists } from "../../ledger/exists.ts";

const DEMO = join(REPO_ROOT, "cli/demo.ts");
/** Widest line the demo may print (issue 15.8: the leaderboard was 112). */
const OUTPUT_COLUMNS_MAX = 80;

// Issue 15.11: the demo wrote into the real ledger root ($LEDGER_ROOT or
// data/ledger) and its runs could not be removed. It now has a root of its own.
Deno.test("deno task demo: its own root, output within 80 columns", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "ledger-demo-" });
  const realRoot = join(cwd, "real-root");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(DEMO),
      cwd,
      env: { LEDGER_ROOT: realRoot },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const wide = stdout.split("\n").filter((line) => [...line].length > OUTPUT_COLUMNS_MAX);
    equal(wide.join("\n"), "", "every line fits 80 columns");
    ok(await exists(join(cwd, "data/demo/index/runs.duckdb")), "the demo's own root");
    equal(await exists(realRoot), false, "LEDGER_ROOT untouched");
    equal(await exists(join(cwd, "data/ledger")), false, "data/ledger untouched");
    ok(stdout.includes("rm -rf data/demo"), "says how to remove its runs");
    ok(stdout.includes("  deno task ui --root data/demo\n"), stdout);
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

// A docs audit: `demo --root data/ledger` mixed the sample runs into the real log, then printed
// `rm -rf data/ledger` as the way to remove them.
Deno.test("deno task demo --root refuses a root holding a log it did not write", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "ledger-demo-root-" });
  const real = join(cwd, "real");
  const part = join(real, "events", "day=2026-01-02", "part-000001.jsonl");
  try {
    await Deno.mkdir(join(real, "events", "day=2026-01-02"), { recursive: true });
    const line = '{"event_type":"run.started","event_id":"e1","timestamp_ms":1,"run_id":"r"}\n';
    await Deno.writeTextFile(part, line);
    const out = await new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(DEMO, ["--root", real]),
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    equal(out.code, 2, stderr);
    ok(stderr.includes(`--root ${real} already holds a ledger`), stderr);
    equal(stderr.trim().split("\n").length, 1, "one line");
    equal(await Deno.readTextFile(part), line, "the log is unchanged");
    equal([...Deno.readDirSync(real)].map((e) => e.name).join(), "events", "nothing added");
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});

// A contract check: `demo --root /tmp/x` printed `deno task ui --root /tmp/x` and the like, which
// the tasks' permissions (data/ only) refuse. A root elsewhere gets `deno run -A` commands.
Deno.test("deno task demo --root elsewhere prints commands that can read it", async () => {
  const cwd = await Deno.makeTempDir({ prefix: "ledger-demo-elsewhere-" });
  const root = join(cwd, "elsewhere");
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(DEMO, ["--root", root]),
      cwd,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const next = stdout.slice(stdout.indexOf("Next, on the demo's root"));
    ok(!next.includes("  deno task "), next);
    for (const command of ["runs", "ui"]) {
      ok(next.includes(`  deno run -A cli/ledger.ts ${command} --root ${root}\n`), next);
    }
  } finally {
    await Deno.remove(cwd, { recursive: true });
  }
});
