/**
 * `--sort` on a field of mixed kinds (SPEC 11): numbers by value first
 * (numeric strings count as numbers), then the values that are not numbers
 * by their text, then runs without the field; ascending and descending (each
 * class reversed, the classes in that order), as rows and as JSON.
 */
import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { openWriter } from "../../ledger/writer.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { queryRuns, streamRunsJson, withReader } from "../../indexer/query/mod.ts";
import { withTempDir } from "../_helpers.ts";

/** Run id and the `summary.x` it records (`undefined`: no such key). */
const VALUES: [string, unknown][] = [
  ["r-3", 3],
  ["r-b", "beta"],
  ["r-10", "10"],
  ["r-a", "alpha"],
  ["r-none", undefined],
  ["r-neg", -1.5],
  ["r-obj", { k: 1 }],
  ["r-null", null],
];

Deno.test("sort: numbers by value, then other values as text, then missing", async () => {
  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    for (const [run_id, x] of VALUES) {
      await writer.appendBatch([
        { event_type: "run.created", run_id, run_type: "t", config: {}, data_fingerprint: "f" },
        {
          event_type: "run.completed",
          run_id,
          summary: x === undefined ? {} : { x },
          artifact_paths: {},
        },
      ]);
    }
    await writer.close();
    // Non-finite numbers as a Python log may spell them (EVENTS.md rule 5): they read as null.
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    const python = ["-inf", "NAN"].flatMap((x, i) => [
      `{"event_type": "run.created", "event_id": "py-c${i}", "run_id": "r-py${i}", ` +
      `"timestamp_ms": ${now}, "run_type": "t", "config": {}, "data_fingerprint": "f"}`,
      `{"event_type": "run.completed", "event_id": "py-d${i}", "run_id": "r-py${i}", ` +
      `"timestamp_ms": ${now + 1}, "summary": {"x": ${x}}, "artifact_paths": {}}`,
    ]);
    await Deno.mkdir(`${root}/events/day=${day}`, { recursive: true });
    await Deno.writeTextFile(`${root}/events/day=${day}/part-py.jsonl`, python.join("\n") + "\n");
    await rebuildIndex(root, {});
    const ascending = ["r-neg", "r-3", "r-10", "r-a", "r-b", "r-obj"];
    // Descending: numbers first too, then text, each reversed (a probe: text came first, so
    // `--sort metrics.sharpe:desc --limit 1` was the trial whose sharpe is "n/a").
    const descending = ["r-10", "r-3", "r-neg", "r-obj", "r-b", "r-a"];
    // Runs without a value (null or missing) come last, in the default order (newest first).
    const missing = new Set(["r-none", "r-null", "r-py0", "r-py1"]);
    const check = (ids: string[], expected: readonly string[], label: string) => {
      deepEqual(ids.slice(0, expected.length), expected, label);
      deepEqual(new Set(ids.slice(expected.length)), missing, label);
    };
    await withReader(indexPath(root), async (conn) => {
      for (const [descendingOrder, expected] of [[false, ascending], [true, descending]] as const) {
        const sort = [{ field: "summary.x", descending: descendingOrder }];
        check((await queryRuns(conn, { sort })).map((r) => r.run_id), expected, "rows");
        const texts: string[] = [];
        for await (const b of streamRunsJson(conn, { sort })) texts.push(...b);
        check(texts.map((t) => JSON.parse(t).run_id), expected, "json");
      }
    });
  });
});
