/**
 * The UI's compare page resolves the run ids and prefixes it is given in one
 * query, as `ledger compare` does (`resolveRunIds` in
 * indexer/query/resolve.ts): it ran one query per run named (an audit). The
 * answers stay those of resolving each on its own: a redirect to the full
 * ids, 404 for an unknown one, 400 naming the candidates of an ambiguous
 * prefix (the first in order that fails), 400 for a run named twice.
 */
import assert from "node:assert/strict";
import { loadDuckDB } from "../../indexer/duckdb.ts";
import { LiveIndex } from "../../report/data.ts";
import { uiHandler } from "../../report/server.ts";
import { withTempDir } from "../_helpers.ts";
import { indexCompletedRuns } from "../indexer/_fixtures.ts";

/** Twelve runs (the most a compare holds) and two sharing a prefix. */
const RUN_IDS = [
  ...Array.from({ length: 12 }, (_, i) => `cmp-${String(i).padStart(2, "0")}-run`),
  "amb-1",
  "amb-2",
];

/**
 * Count the statements every DuckDB connection of this process runs while
 * `fn` runs (a statement run through another counts once).
 */
async function countingStatements(fn: () => Promise<void>): Promise<number> {
  const proto = (await loadDuckDB()).DuckDBConnection.prototype as unknown as Record<
    string,
    unknown
  >;
  const names = Object.getOwnPropertyNames(proto)
    .filter((k) => /^(run|stream|start|prepare|extract)/.test(k) && typeof proto[k] === "function");
  const saved = new Map(names.map((k) => [k, proto[k] as (...args: unknown[]) => unknown]));
  let statements = 0;
  let depth = 0;
  for (const [name, original] of saved) {
    proto[name] = async function (this: unknown, ...args: unknown[]) {
      if (depth === 0) statements++;
      depth++;
      try {
        return await original.apply(this, args);
      } finally {
        depth--;
      }
    };
  }
  try {
    await fn();
  } finally {
    for (const [name, original] of saved) proto[name] = original;
  }
  return statements;
}

Deno.test("ui compare: one query resolves the runs named", async (t) => {
  await withTempDir(async (root) => {
    await indexCompletedRuns(root, RUN_IDS);
    const live = new LiveIndex(root);
    const handle = uiHandler(live);
    const get = async (runs: string[]) => {
      const query = runs.map((r) => `run=${encodeURIComponent(r)}`).join("&");
      const res = await handle(new Request(`http://ui/compare?${query}`));
      return { status: res.status, location: res.headers.get("location"), body: await res.text() };
    };
    try {
      await get(["cmp-00-run", "cmp-01-run"]); // opens the index file

      await t.step("twelve prefixes: one statement, as two", async () => {
        const prefixes = RUN_IDS.slice(0, 12).map((id) => id.slice(0, "cmp-00".length));
        let answer: Awaited<ReturnType<typeof get>> | undefined;
        const twelve = await countingStatements(async () => {
          answer = await get(prefixes);
        });
        assert.equal(answer?.status, 302);
        assert.equal(
          answer?.location,
          `/compare?${RUN_IDS.slice(0, 12).map((id) => `run=${id}`).join("&")}`,
        );
        const two = await countingStatements(async () => {
          answer = await get(prefixes.slice(0, 2));
        });
        assert.equal(answer?.status, 302);
        assert.equal(two, 1);
        assert.equal(twelve, two);
      });

      await t.step("unknown, ambiguous and twice: the answers of one id at a time", async () => {
        const unknown = await get(["cmp-00", "nope", "amb"]);
        assert.equal(unknown.status, 404);
        assert.ok(unknown.body.includes("The index has no run &quot;nope&quot;."));
        const ambiguous = await get(["cmp-00", "amb", "nope"]);
        assert.equal(ambiguous.status, 400);
        assert.equal(
          ambiguous.body,
          `Run id prefix "amb" is ambiguous: it matches amb-1, amb-2\n`,
        );
        const twice = await get(["cmp-03", "cmp-03-run"]);
        assert.equal(twice.status, 400);
        assert.ok(twice.body.includes("Run &quot;cmp-03-run&quot; is named twice."));
        const shown = await get(["cmp-03-run", "amb-2"]);
        assert.equal(shown.status, 200);
        assert.ok(shown.body.includes("Compare 2 runs"));
      });
    } finally {
      live.close();
    }
  });
});
