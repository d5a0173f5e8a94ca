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
