/**
 * The `deno run` command the permission message advises runs as advised: it
 * has `--no-prompt` (DuckDB's loader probes files it does without, and Deno
 * asked about each in a terminal) and every path the command reads, the
 * sample data a backtest reads when given no --calls/--candles (audit 5)
 * included. The dual-mode legacy file's default path is not asked for: the
 * advised command failed on it (audit 4, flags F5) until dual mode looked
 * for it only where granted.
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { CLI_PATH, DENO_RUN, REPO_ROOT } from "../_helpers.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { DEFAULT_LEGACY_DB_PATH } from "../../legacy/read.ts";
import { SAMPLE_CALLS_PATH, SAMPLE_CANDLES_PATH } from "../../backtest/workflow.ts";

async function deno(flags: readonly string[], args: readonly string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      ...DENO_RUN,
      ...flags,
      CLI_PATH,
      ...args,
    ],
    cwd: REPO_ROOT,
    env: { LEDGER_ROOT: "" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("the advised deno run command has --no-prompt and runs without a missing permission", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger_perm_advice_" });
  try {
    await Deno.mkdir(`${root}/events`);
    await rebuildIndex(root, {});
    for (const command of ["runs", "show"]) {
      await t.step(command, async () => {
        const args = command === "runs"
          ? [command, "--root", root]
          : [command, "r1", "--root", root];
        // No permission at all (the audit's case): the root is outside what the task grants.
        const refused = await deno([], args);
        equal(refused.code, 1, refused.stderr);
        const line = refused.stderr.trim();
        ok(!line.includes(DEFAULT_LEGACY_DB_PATH), line);
        const advised = /\(deno run (.*) \.\.\. cli\/ledger\.ts \w+\)$/.exec(line);
        ok(advised !== null, line);
        const flags = advised[1].split(" ");
        equal(flags[0], "--no-prompt");
        const r = await deno(flags.slice(1), args);
        // `runs` lists an empty index; `show` looks the run up and does not find it (exit 1).
        ok(!/missing permission|Requires \w+ access/.test(r.stderr), r.stderr);
        equal(r.code, command === "runs" ? 0 : 1, r.stderr);
      });
    }
    await t.step("backtest on the sample data", async () => {
      const args = ["backtest", "path-only", "--root", root, "--no-index", "--run-id", "perm-1"];
      const refused = await deno([], args);
      equal(refused.code, 1, refused.stderr);
      const line = refused.stderr.trim();
      match(line, new RegExp(`--allow-read=[^ ]*${SAMPLE_CALLS_PATH}`));
      match(line, new RegExp(`--allow-read=[^ ]*${SAMPLE_CANDLES_PATH}`));
      const advised = /\(deno run (.*) \.\.\. cli\/ledger\.ts \w+\)$/.exec(line);
      ok(advised !== null, line);
      // Followed as advised, the run reads the sample and completes.
      const r = await deno(advised[1].split(" ").slice(1), args);
      ok(!/missing permission|Requires \w+ access/.test(r.stderr), r.stderr);
      equal(r.code, 0, r.stderr);
      const manifest = await Deno.stat(`${root}/artifacts/runs/perm-1/manifest.json`);
      ok(manifest.isFile);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
