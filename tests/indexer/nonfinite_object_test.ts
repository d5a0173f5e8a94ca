/**
 * `--where` and `--sort` on an object or array that holds Python's `NaN` or
 * `Infinity` (SPEC 3: they read as null) see the text every output prints,
 * `{"stop":null}`, not DuckDB's `{"stop":NaN}` (an oracle audit: `~ 'NaN'`
 * matched such a run, `= '{"stop":null}'` missed it, and the sort put it
 * before its equal in one direction and after it in the other).
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import {
  exportTable,
  queryRuns,
  queryTrials,
  type SortKey,
  streamRunsJson,
  withReader,
} from "../../indexer/query/mod.ts";
import { indexPath } from "../../ledger/paths.ts";
import { withTempDir } from "../_helpers.ts";

const T0 = Date.UTC(2026, 0, 20);

/**
 * Runs as Python's `json.dumps` writes them, all created at one instant (so
 * the default order is by run_id): `py-nan` and `py-null` hold the same
 * value for every reader, as do `arr-inf` and `arr-null`; `note` holds the
 * word NaN inside a string, which stays as it is.
 */
const RUNS: [string, string, string][] = [
  ["py-nan", `{"stop": NaN, "xs": [-Infinity, 1.5]}`, `{"m": {"a": Infinity}}`],
  ["py-null", `{"stop": null, "xs": [null, 1.5]}`, `{"m": {"a": null}}`],
  ["arr-inf", `{"stop": 0.5, "xs": [1e309, 1.5]}`, `{"m": {"a": 2}}`],
  ["arr-null", `{"stop": 0.5, "xs": [null, 1.5]}`, `{"m": {"a": 2}}`],
  [
    "note",
    `{"stop": "x:NaN,", "q": "say \\"NaN\\" \\\\", "xs": ["NaN"]}`,
    `{"m": {"a": "Infinity"}}`,
  ],
];

function pythonPart(): string {
  return RUNS.flatMap(([runId, policy, metrics], i) => [
    `{"event_type": "run.created", "event_id": "c${i}", "run_id": "${runId}", ` +
    `"run_type": "x", "config": {"policy": ${policy}}, "data_fingerprint": "f", ` +
    `"timestamp_ms": ${T0}, "schema_version": 1}`,
    `{"event_type": "trial.recorded", "event_id": "t${i}", "run_id": "${runId}", ` +
    `"trial_id": "t", "params": {"p": ${policy}}, "metrics": ${metrics}, ` +
    `"timestamp_ms": ${T0 + 1}, "schema_version": 1}`,
  ]).join("\n") + "\n";
}

Deno.test("non-finite numbers inside an object: --where and --sort read them as null", async (t) => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-000001.jsonl"), pythonPart());
    await rebuildIndex(root, {});
    const db = indexPath(root);
    const runs = (where: string[], sort?: SortKey[]) =>
      withReader(db, async (conn) => (await queryRuns(conn, { where, sort })).map((r) => r.run_id));
    const trials = (where: string[], sort?: SortKey[]) =>
      withReader(
        db,
        async (conn) => (await queryTrials(conn, { where, sort })).map((r) => r.run_id),
      );

    await t.step("the printed text is what a run matches", async () => {
      // What jsonl prints for each run's config.policy, as it prints it.
      const printed = new Map<string, string>();
      await withReader(db, async (conn) => {
        for await (const batch of streamRunsJson(conn, { columns: ["config.policy"] })) {
          for (const line of batch) {
            const runId = JSON.parse(line).run_id as string;
            printed.set(runId, line.slice(line.indexOf('"config.policy":') + 16, -1));
          }
        }
      });
      equal(printed.get("py-nan"), '{"stop":null,"xs":[null,1.5]}');
      for (const [runId, text] of printed) {
        const matched = await runs([
          `config.policy = '${text.replaceAll("\\", "\\\\").replaceAll("'", "\\'")}'`,
        ]);
        deepEqual(matched.includes(runId), true, `${runId} matches its printed ${text}`);
      }
      deepEqual(await runs([`config.policy = '{"stop":null,"xs":[null,1.5]}'`]), [
        "py-nan",
        "py-null",
      ]);
    });

    await t.step("~ 'NaN' matches a string holding NaN, not a NaN number", async () => {
      deepEqual(await runs(["config.policy ~ 'NaN'"]), ["note"]);
      deepEqual(await runs(["config.policy ~ '(?i)inf'"]), []);
      deepEqual(await runs(["config.policy.xs ~ 'null'"]), [
        "arr-inf",
        "arr-null",
        "py-nan",
        "py-null",
      ]);
      deepEqual(await runs(["config.policy.xs = '[null,1.5]'"]), [
        "arr-inf",
        "arr-null",
        "py-nan",
        "py-null",
      ]);
    });

    await t.step("equal values tie in the sort, in both directions", async () => {
      for (const descending of [false, true]) {
        const order = await runs([], [{ field: "config.policy", descending }]);
        const at = (id: string) => order.indexOf(id);
        equal(at("py-null") - at("py-nan"), 1, `${order} (descending: ${descending})`);
        const xs = await runs(["config.policy.xs = '[null,1.5]'"], [
          { field: "config.policy.xs", descending },
        ]);
        deepEqual(xs, ["arr-inf", "arr-null", "py-nan", "py-null"]);
      }
    });

    await t.step("trials: params.<object> and metrics.<object>", async () => {
      deepEqual(await trials(["params.p ~ 'NaN'"]), ["note"]);
      deepEqual(await trials(["metrics.m = '{\"a\":null}'"]), ["py-nan", "py-null"]);
      for (const descending of [false, true]) {
        const order = await trials([], [{ field: "metrics.m", descending }]);
        equal(order.indexOf("py-null") - order.indexOf("py-nan"), 1, `${order}`);
      }
    });

    await t.step("export --where", async () => {
      const outPath = join(root, "runs.jsonl");
      const report = await withReader(db, (conn) =>
        exportTable(conn, {
          what: "runs",
          format: "jsonl",
          outPath,
          where: [`config.policy = '{"stop":null,"xs":[null,1.5]}'`],
        }));
      equal(report.rows, 2);
      const ids = (await Deno.readTextFile(outPath)).trim().split("\n")
        .map((l) => JSON.parse(l).run_id).sort();
      deepEqual(ids, ["py-nan", "py-null"]);
    });

    await t.step("export: an array column holds null where the log has NaN or 1e309", async () => {
      const outPath = join(root, "all.jsonl");
      await withReader(db, (conn) => exportTable(conn, { what: "runs", format: "jsonl", outPath }));
      const xs = Object.fromEntries(
        (await Deno.readTextFile(outPath)).trim().split("\n").map((l) => JSON.parse(l))
          .map((r) => [r.run_id, r["config.policy.xs"]]),
      );
      deepEqual(xs, {
        "py-nan": "[null,1.5]",
        "py-null": "[null,1.5]",
        "arr-inf": "[null,1.5]",
        "arr-null": "[null,1.5]",
        "note": '["NaN"]',
      });
    });
  });
});

/**
 * Every JSON column of the index, as a notebook reads `runs.duckdb` with a
 * strict parser (SPEC 3: no reader fails on a log's `NaN`). DuckDB kept the
 * text as written (`{"stop":NaN}`, `-inf`), which `JSON.parse` refused (two
 * probes). Strings holding those words stay as they are.
 */
Deno.test("the index's JSON columns hold null for a log's NaN, Infinity and 1e400", async (t) => {
  await withTempDir(async (root) => {
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    const part = join(dir, "part-000001.jsonl");
    const line = (i: number, type: string, fields: string) =>
      `{"event_type": "${type}", "event_id": "n${i}", "run_id": "py", ` +
      `"timestamp_ms": ${T0 + i}, ${fields}}\n`;
    await Deno.writeTextFile(
      part,
      pythonPart() +
        line(0, "run.started", `"host": "h", "pid": 1`) +
        line(
          1,
          "phase.completed",
          `"phase_name": "p", "duration_ms": 5, ` +
            `"output_summary": {"rows": nan, "w": [INF, -Infinity], "s": "-inf,NaN"}`,
        ),
    );
    await rebuildIndex(root, {});
    // Appended after the first rebuild: these go through the incremental path.
    await Deno.writeTextFile(
      part,
      line(2, "run.failed", `"error": {"message": "NaN,", "loss": -NaN, "e": 1E+400}`) +
        line(
          3,
          "run.completed",
          `"summary": {"sharpe": NaN, "dd": -inf, "n": 1e300, ` +
            `"k": {"q": [Infinity, "Infinity"]}}, "artifact_paths": {"a": "x: NaN"}`,
        ),
      { append: true },
    );
    const report = await rebuildIndex(root, {});
    equal(report.mode, "incremental");

    const columns: [string, string][] = [
      ["events", "config"],
      ["events", "output_summary"],
      ["events", "params"],
      ["events", "metrics"],
      ["events", "summary"],
      ["events", "artifact_paths"],
      ["events", "error"],
      ["runs_d", "config"],
      ["runs_status", "summary_json"],
      ["runs_status", "error_json"],
      ["runs_status", "artifact_paths_json"],
      ["phase_timings", "output_summary_json"],
      ["trial_results", "params"],
      ["trial_results", "metrics"],
    ];
    const stored = new Map<string, string[]>();
    await withReader(indexPath(root), async (conn) => {
      for (const [table, column] of columns) {
        const rows = (await conn.runAndReadAll(
          `SELECT ${column} FROM ${table} WHERE ${column} IS NOT NULL ORDER BY ${column}`,
        )).getRows().map((r) => String(r[0]));
        stored.set(`${table}.${column}`, rows);
      }
    });

    await t.step("a strict JSON.parse reads every value of every JSON column", () => {
      for (const [column, values] of stored) {
        equal(values.length > 0, true, `${column} has values`);
        for (const value of values) {
          equal(typeof JSON.parse(value), "object", `${column}: ${value}`);
        }
      }
    });

    await t.step("non-finite numbers are null, strings holding their names unchanged", () => {
      deepEqual(stored.get("phase_timings.output_summary_json"), [
        '{"rows":null,"w":[null,null],"s":"-inf,NaN"}',
      ]);
      deepEqual(stored.get("runs_status.error_json"), ['{"message":"NaN,","loss":null,"e":null}']);
      deepEqual(stored.get("runs_status.summary_json"), [
        '{"sharpe":null,"dd":null,"n":1e300,"k":{"q":[null,"Infinity"]}}',
      ]);
      deepEqual(stored.get("runs_status.artifact_paths_json"), ['{"a":"x: NaN"}']);
      const configs = stored.get("runs_d.config")!;
      equal(configs.includes('{"policy":{"stop":null,"xs":[null,1.5]}}'), true, `${configs}`);
      equal(configs.includes('{"policy":{"stop":0.5,"xs":[null,1.5]}}'), true, `${configs}`);
      equal(
        configs.includes(
          String.raw`{"policy":{"stop":"x:NaN,","q":"say \"NaN\" \\","xs":["NaN"]}}`,
        ),
        true,
        `${configs}`,
      );
      deepEqual(stored.get("trial_results.metrics")!.filter((m) => m.includes("Infinity")), [
        '{"m":{"a":"Infinity"}}',
      ]);
    });

    await t.step("a full rebuild stores the same text", async () => {
      const full = await rebuildIndex(root, { full: true });
      equal(full.mode, "full");
      await withReader(indexPath(root), async (conn) => {
        for (const [table, column] of columns) {
          const rows = (await conn.runAndReadAll(
            `SELECT ${column} FROM ${table} WHERE ${column} IS NOT NULL ORDER BY ${column}`,
          )).getRows().map((r) => String(r[0]));
          deepEqual(rows, stored.get(`${table}.${column}`), `${table}.${column}`);
        }
      });
    });
  });
});
