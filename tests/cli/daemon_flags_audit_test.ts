/**
 * Audit of `ledger daemon`'s duration flags, through the real process: a
 * value the usage accepts ("a number > 0") that rounds to 0 ms failed at
 * start with exit 1 and a library option's name (`intervalMs must be > 0`),
 * and `--interval 0x10` was taken for 16 seconds.
 *
 * @module
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { LineCollector, runLedger, withTempDir } from "../_helpers.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;
/** Longest wait for the daemon's first rebuild line. */
const LINE_WAIT_MS = 30_000;

Deno.test("ledger daemon: a tiny duration runs (at 1 ms) rather than failing", async (t) => {
  const cases: [string, string[]][] = [
    ["--interval 0.0001", ["--interval", "0.0001"]],
    ["--stale-after-hours 1e-12", ["--interval", "0.2", "--stale-after-hours", "1e-12"]],
  ];
  for (const [name, flags] of cases) {
    await t.step(name, async () => {
      await withTempDir(async (root) => {
        await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-1", T0));
        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", CLI, "daemon", "--root", root, ...flags],
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const out = new LineCollector(child.stdout);
        const err = new Response(child.stderr).text();
        await out.waitFor(2, LINE_WAIT_MS); // "watching ..." and the first rebuild
        child.kill("SIGINT");
        const status = await child.status;
        await out.done;
        const stderr = await err;
        equal(status.code, 0, `exit ${status.code}: ${stderr}${out.lines.join("\n")}`);
        match(out.lines.join("\n"), /rebuild (full|incremental)/);
      });
    });
  }
});

Deno.test("ledger daemon: --interval in hex is a usage error", async () => {
  await withTempDir(async (root) => {
    // Accepted, the daemon would run on: the timeout kills it and fails the test.
    const r = await runLedger(["daemon", "--root", root, "--interval", "0x10"], {
      signal: AbortSignal.timeout(LINE_WAIT_MS),
    });
    equal(r.code, 2, r.stderr);
    match(
      r.stderr.trim(),
      /^ledger daemon: --interval must be a number > 0 and <= 86400, got "0x10"$/,
    );
  });
});

// A bad-input probe: a --db that is not an index (a text file) made every pass refuse the same
// rebuild, logged each interval, forever; rebuild-index exits 1 at once. So does the daemon.
Deno.test("ledger daemon: a --db that is not an index is refused once, exit 1", async () => {
  await withTempDir(async (root) => {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("r1", T0));
    const notIndex = `${root}/notes.txt`;
    await Deno.writeTextFile(notIndex, "not a database\n");
    // Running on, the daemon is killed by the timeout, and the test fails.
    const r = await runLedger(["daemon", "--root", root, "--interval", "0.2", "--db", notIndex], {
      signal: AbortSignal.timeout(LINE_WAIT_MS),
    });
    equal(r.code, 1, r.stderr);
    match(r.stderr, /is not a DuckDB database: not replacing it with an index/);
    equal(await Deno.readTextFile(notIndex), "not a database\n");
  });
});
