/**
 * The report's compare view says what the runs' data fingerprints say:
 * the same data, different data, or, when some run has none or a blank
 * one, that it cannot tell (a review: runs with blank fingerprints were
 * "Different data fingerprints", which nothing showed).
 *
 * @module
 */
import assert from "node:assert/strict";
import { ReportIndex } from "../../report/data.ts";
import { type Links, renderCompare } from "../../report/html.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

/** `fullRun`'s events with its run.created's fingerprint replaced. */
function runWith(runId: string, startMs: number, fingerprint: string): Record<string, unknown>[] {
  return fullRun(runId, startMs).map((e) =>
    e.event_type === "run.created" ? { ...e, data_fingerprint: fingerprint } : e
  );
}

Deno.test("report compare: same, different, or unknown data", async () => {
  await withTempDir(async (root) => {
    const fingerprints: [string, string][] = [
      ["same-1", "fp1"],
      ["same-2", "fp1"],
      ["other", "fp2"],
      ["blank-1", ""],
      ["blank-2", ""],
    ];
    await writePart(
      root,
      "day=2026-01-20/part-000001.jsonl",
      fingerprints.flatMap(([id, fp], i) => runWith(id, T0 + i * 1_000, fp)),
    );
    await rebuildIndex(root, {});
    const index = await ReportIndex.open(root);
    try {
      const links: Links = { overview: "/", run: (id) => `/run/${id}`, compare: () => null };
      const says = async (ids: string[]) => {
        const { html } = renderCompare(await index.runs(ids), { links, key: "c" });
        return ["Same data:", "Different data fingerprints.", "Same data unknown"]
          .filter((text) => html.includes(text));
      };
      assert.deepEqual(await says(["same-1", "same-2"]), ["Same data:"]);
      assert.deepEqual(await says(["same-1", "other"]), ["Different data fingerprints."]);
      assert.deepEqual(await says(["blank-1", "blank-2"]), ["Same data unknown"]);
      assert.deepEqual(await says(["same-1", "blank-1"]), ["Same data unknown"]);
    } finally {
      index.close();
    }
  });
});
