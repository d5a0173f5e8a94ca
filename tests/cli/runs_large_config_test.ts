/**
 * Audit (long lines): `ledger runs --where config.symbol = 'SYM3'` over 190
 * runs with 100-900 KB configs ran out of the reader's default 512MB. The
 * filter read the field through three DuckDB JSON calls, and each keeps the
 * parsed documents of a whole chunk of rows; the field is now parsed once.
 * The same failure at a smaller scale: a few runs with ~600 KB configs and
 * the reader's smallest `--memory-limit`.
 *
 * @module
 */
import assert from "node:assert";
import { join } from "node:path";
import { runLedger, withTempDir } from "../_helpers.ts";

/** Runs in the log, each with a config of `SERIES_NUMBERS` numbers (~600 KB): 14 failed before the fix, 30 fail after it. */
const RUNS = 14;
const SERIES_NUMBERS = 70_000;

async function writeLog(root: string): Promise<void> {
  const startMs = Date.UTC(2026, 0, 1);
  const lines: string[] = [];
  for (let n = 0; n < RUNS; n++) {
    const t = startMs + n * 10;
    const base = { run_id: `big-${String(n).padStart(3, "0")}`, schema_version: 1 };
    const series = Array.from({ length: SERIES_NUMBERS }, (_, i) => (i * 7919 + n) % 100_000 / 100);
    lines.push(JSON.stringify({
      event_type: "run.created",
      event_id: `${t}_c${n}`,
      timestamp_ms: t,
      ...base,
      run_type: "policy",
      data_fingerprint: "fp",
      config: { symbol: `SYM${n % 4}`, series },
    }));
  }
  const dir = join(root, "events", "day=2026-01-01");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "part-big-000001.jsonl"), lines.join("\n") + "\n");
}

Deno.test("runs --where on a config path of huge configs fits the reader's memory", async () => {
  await withTempDir(async (root) => {
    await writeLog(root);
    const rebuilt = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const found = await runLedger([
      "runs",
      "--root",
      root,
      "--where",
      "config.symbol = 'SYM3'",
      "--format",
      "jsonl",
      "--memory-limit",
      "64MB",
    ]);
    assert.equal(found.code, 0, found.stderr);
    const ids = found.stdout.trim().split("\n").map((line) => JSON.parse(line).run_id).sort();
    const expected = Array.from({ length: RUNS }, (_, n) => n).filter((n) => n % 4 === 3)
      .map((n) => `big-${String(n).padStart(3, "0")}`);
    assert.deepEqual(ids, expected);
  });
});
