/**
 * A reading command stopped by SIGINT or SIGTERM while its query spills
 * past `--memory-limit` removes its spill directory from `index/` (a probe:
 * `ledger sql` left `.runs.duckdb.reader-PID-HEX` of 244-294 MB there, which
 * a rebuild removes only a day later), says so, and exits 130 or 143.
 */
import { strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runLedger, withTempDir } from "../_helpers.ts";

/** A query that sorts more than 64 MB of text: it spills at that limit, for tens of seconds. */
const SPILLING_SQL = "SELECT sum(hash(m)) FROM (SELECT md5(range::VARCHAR) || " +
  "md5((range + 1)::VARCHAR) AS m FROM range(30000000) ORDER BY m)";
/** Longest wait for the spill directory to hold a file, in ms. */
const SPILL_WAIT_MS_MAX = 120_000;

/** The reader spill directories in `indexDir`, and whether any holds a file. */
function spills(indexDir: string): { names: string[]; holding: boolean } {
  const names = [...Deno.readDirSync(indexDir)].map((e) => e.name)
    .filter((n) => n.startsWith(".runs.duckdb.reader-"));
  const holding = names.some((n) => {
    const files = (dir: string): number =>
      [...Deno.readDirSync(dir)].reduce(
        (k, e) => k + (e.isDirectory ? files(join(dir, e.name)) : 1),
        0,
      );
    return files(join(indexDir, n)) > 0;
  });
  return { names, holding };
}

Deno.test("sql: SIGINT/SIGTERM during a query that spills remove its spill directory", async (t) => {
  await withTempDir(async (root) => {
    const created = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "r1"],
      ...["--run-type", "t", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    equal(created.code, 0, created.stderr);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const indexDir = join(root, "index");
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      await t.step(signal, async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: denoScriptArgs(CLI_PATH, [
            ...["sql", "--root", root, "--memory-limit", "64MB", SPILLING_SQL],
          ]),
          stdout: "null",
          stderr: "piped",
        }).spawn();
        const stderr = new Response(child.stderr).text();
        const start = Date.now();
        while (!spills(indexDir).holding && Date.now() - start < SPILL_WAIT_MS_MAX) {
          await new Promise((r) => setTimeout(r, 50));
        }
        equal(spills(indexDir).holding, true, "the query spilled");
        child.kill(signal);
        const status = await child.status;
        equal(status.code, signal === "SIGINT" ? 130 : 143, await stderr);
        equal((await stderr).trim(), `ledger sql: interrupted by ${signal}`);
        equal(spills(indexDir).names.join(), "", "no spill directory left");
      });
    }
  });
});
