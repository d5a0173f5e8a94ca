/**
 * A field path through an array: a segment of digits reads the array's
 * element (and an object's key of those digits), in `runs` and `trials`
 * alike. A probe: a ladder sweep names its parameters `levels.0.multiple`
 * (`trials.parquet`, `summary.axes`, the report's heatmap), while
 * `trials --where "params.levels.0.multiple = 3"` matched nothing and
 * `--sort` on it kept the grid's order (exit 0).
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { runLedger, withTempDir } from "../_helpers.ts";
import { emitCreatedRuns, listedRunIds } from "./_query_fixture.ts";

/** `ledger trials --root ROOT ...args --format jsonl`, one object a trial. */
async function trials(root: string, args: readonly string[]): Promise<Record<string, unknown>[]> {
  const r = await runLedger(["trials", "--root", root, ...args, "--format", "jsonl"]);
  equal(r.code, 0, r.stderr);
  return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
}

Deno.test("trials: params.levels.0.multiple reads a ladder's first level", async () => {
  await withTempDir(async (root) => {
    const levels: Record<string, { multiple: number }[]> = {
      t0: [{ multiple: 2 }, { multiple: 5 }],
      t1: [{ multiple: 3 }, { multiple: 4 }],
      t2: [{ multiple: 3 }],
    };
    const events = [
      {
        event_type: "run.created",
        run_id: "sw-1",
        run_type: "sweep",
        config: {},
        data_fingerprint: "f",
      },
      ...Object.entries(levels).map(([trial_id, l]) => ({
        event_type: "trial.recorded",
        run_id: "sw-1",
        trial_id,
        params: { type: "ladder", levels: l },
        metrics: { calls: 1 },
      })),
    ];
    for (const event of events) {
      const r = await runLedger(["emit", "--root", root, "--event", JSON.stringify(event)]);
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const ids = (rows: Record<string, unknown>[]) => rows.map((row) => row.trial_id);
    deepEqual(ids(await trials(root, ["--where", "params.levels.0.multiple = 3"])), ["t1", "t2"]);
    deepEqual(ids(await trials(root, ["--where", "params.levels.1.multiple is null"])), ["t2"]);
    // Descending, the trial without a second level last.
    deepEqual(ids(await trials(root, ["--sort", "params.levels.1.multiple:desc"])), [
      "t0",
      "t1",
      "t2",
    ]);
    const rows = await trials(root, [
      "--columns",
      "params.levels.0.multiple",
      "--sort",
      "trial_id",
    ]);
    deepEqual(rows.map((row) => row["params.levels.0.multiple"]), [2, 3, 3]);
  });
});

Deno.test("runs: config.weights.0 reads an array's element and an object's key alike", async () => {
  await withTempDir(async (root) => {
    await emitCreatedRuns(root, [
      { id: "arr", config: '{"weights": [0.2, 0.8]}' },
      { id: "obj", config: '{"weights": {"0": 0.5, "01": 0.2}}' },
    ]);
    deepEqual(await listedRunIds(root, ["--where", "config.weights.0 = 0.2"]), ["arr"]);
    deepEqual(await listedRunIds(root, ["--where", "config.weights.0 = 0.5"]), ["obj"]);
    deepEqual(await listedRunIds(root, ["--where", "config.weights.1 > 0.5"]), ["arr"]);
    // `01` is a key, never an index.
    deepEqual(await listedRunIds(root, ["--where", "config.weights.01 = 0.2"]), ["obj"]);
  });
});
