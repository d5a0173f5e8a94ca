/**
 * A negative zero the log holds (Python's `json.dumps(-0.0)` writes `-0.0`)
 * comes out as `-0.0` in every machine format, as `runs --format jsonl` and
 * `export` already wrote it, and as `-0` in the tables (an oracle audit:
 * csv, the tables, `show --json`, `compare` and `sql` printed `0`).
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { jsonText } from "../../indexer/query/_json.ts";
import { cellText, csvField } from "../../cli/_table.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 20);

/** Two runs as Python writes them, each with `-0.0` in config, summary, params and metrics. */
function pythonPart(): string {
  return ["nz1", "nz2"].flatMap((runId, i) => [
    `{"event_type": "run.created", "event_id": "c${i}", "run_id": "${runId}", ` +
    `"run_type": "x", "config": {"N": -0.0, "k": ${i}, "o": {"z": -0.0}}, ` +
    `"data_fingerprint": "f", "timestamp_ms": ${T0 + i}, "schema_version": 1}`,
    `{"event_type": "trial.recorded", "event_id": "t${i}", "run_id": "${runId}", ` +
    `"trial_id": "t", "params": {"p": -0.0}, "metrics": {"m": -0.0, "o": {"z": -0.0}}, ` +
    `"timestamp_ms": ${T0 + 10}, "schema_version": 1}`,
    `{"event_type": "run.completed", "event_id": "d${i}", "run_id": "${runId}", ` +
    `"summary": {"s": -0.0}, "artifact_paths": {}, "timestamp_ms": ${T0 + 20}, ` +
    `"schema_version": 1}`,
  ]).join("\n") + "\n";
}

Deno.test("the printing functions keep a negative zero's sign", () => {
  equal(jsonText({ z: -0, l: [-0, 0], n: 0 }), '{"z":-0.0,"l":[-0.0,0],"n":0}');
  equal(jsonText(-0, 2), "-0.0");
  equal(csvField(-0), "-0.0");
  equal(csvField({ z: -0 }), '"{""z"":-0.0}"');
  equal(cellText(-0), "-0");
  equal(cellText({ z: -0 }), '{"z":-0.0}');
  equal(cellText(0), "0");
  equal(csvField(0), "0");
});

Deno.test("negative zero in every output of runs, trials, show, compare and sql", async (t) => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-000001.jsonl"), pythonPart());
    await rebuildIndex(root, {});
    const ledger = async (...args: string[]) => {
      const r = await runLedger([...args, "--root", root]);
      equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const csvRow = (text: string, runId: string) => {
      const [header, ...rows] = text.trim().split("\n");
      const row = rows.find((r) => r.startsWith(`${runId},`))!;
      return { header, row };
    };

    await t.step("runs --format csv and the table", async () => {
      const csv = await ledger("runs", "--columns", "config.N,config.o", "--format", "csv");
      const { header, row } = csvRow(csv, "nz1");
      ok(header.endsWith(",config.N,config.o"), header);
      ok(row.endsWith(`,-0.0,"{""z"":-0.0}"`), row);
      const table = await ledger("runs", "--columns", "config.N", "--wide");
      match(table, /^nz1 .* -0$/m);
    });

    await t.step("trials --format csv and the table", async () => {
      const csv = await ledger(
        "trials",
        "--columns",
        "params.p,metrics.m",
        "--format",
        "csv",
      );
      const { row } = csvRow(csv, "nz1");
      ok(row.endsWith(`,"{""p"":-0.0}","{""m"":-0.0,""o"":{""z"":-0.0}}",-0.0,-0.0`), row);
      const table = await ledger("trials", "--columns", "params.p", "--wide");
      match(table, /^nz1 .* -0 .*$/m);
    });

    await t.step("show --json and its text view", async () => {
      const text = await ledger("show", "nz1", "--json");
      match(text, /"N": -0\.0,/);
      match(text, /"z": -0\.0/);
      match(text, /"s": -0\.0/);
      match(text, /"p": -0\.0/);
      equal(Object.is(JSON.parse(text).run.summary.s, -0), true);
      const view = await ledger("show", "nz1");
      match(view, /^ {4}"N": -0\.0,$/m);
      match(view, /^ {4}"s": -0\.0$/m);
    });

    await t.step("compare --json and its table", async () => {
      const text = await ledger("compare", "nz1", "nz2", "--json");
      match(text, /"s": \{\s*"nz1": -0\.0,\s*"nz2": -0\.0\s*\}/);
      const table = await ledger("compare", "nz1", "nz2", "--wide");
      match(table, /^\s*s\s+-0\s+-0\b/m);
    });

    await t.step("sql in each format", async () => {
      const query = "SELECT -0.0::DOUBLE AS z, [-0.0::DOUBLE] AS l, 0.0::DOUBLE AS p";
      equal(await ledger("sql", query, "--format", "jsonl"), '{"z":-0.0,"l":[-0.0],"p":0}\n');
      equal(
        await ledger("sql", query, "--format", "json"),
        '[\n{"z":-0.0,"l":[-0.0],"p":0}\n]\n',
      );
      equal(await ledger("sql", query, "--format", "csv"), "z,l,p\n-0.0,[-0.0],0\n");
      match(await ledger("sql", query), /^-0 +\[-0\.0\] +0$/m);
    });
  });
});
