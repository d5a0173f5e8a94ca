/**
 * `streamRunsJson` and `streamTrialsJson` read answers of up to
 * `JSON_BLOCKS_ROWS_MAX` rows in blocks joined by DuckDB, larger ones row by
 * row: both ways must give the same texts in the same order, with the same
 * parameters bound (filters, sorts, columns, limits) and Python's non-finite
 * numbers made null.
 *
 * @module
 */
import assert from "node:assert";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import {
  JSON_BLOCK_ROWS,
  type JsonStreamOptions,
  type RunQuery,
  streamRunsJson,
  streamTrialsJson,
  type TrialQuery,
  withReader,
} from "../../indexer/query/mod.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { withTempDir } from "../_helpers.ts";

/** Runs of the fixture: several blocks' worth. */
const RUNS = 700;
/** Every this many runs, the summary holds Python's NaN and Infinity. */
const NON_FINITE_EVERY = 97;
/** NaN and -Infinity as those runs spell them, in turn (run 97: the second pair). */
const NON_FINITE_SPELLINGS = [
  ["NaN", "-Infinity"],
  ["nan", "-inf"],
  ["NAN", "-INFINITY"],
  ["Nan", "-Inf"],
];

function runLines(n: number): (Record<string, unknown> | string)[] {
  const runId = `blk-${String(n).padStart(4, "0")}`;
  const t = T0 + n * 10;
  const created = ev("run.created", runId, t, {
    run_type: n % 3 === 0 ? "sweep" : "policy",
    config: { policy: { stopPct: (n % 7) / 10 }, note: `run ${n}` },
    data_fingerprint: "fp-blocks",
  });
  const trial = ev("trial.recorded", runId, t + 1, {
    trial_id: "t0",
    params: { stopPct: (n % 7) / 10 },
    metrics: { sharpe: (n % 11) / 5 },
  });
  const completed = ev("run.completed", runId, t + 2, {
    summary: { win_rate: (n % 13) / 13, calls: n },
    artifact_paths: {},
  });
  // A tag field binds its key as a parameter: in a sort, a column and a filter.
  const tagged = ev("run.tagged", runId, t + 3, { tags: { grp: `g${n % 5}` } });
  if (n % NON_FINITE_EVERY !== 0) return [created, trial, completed, tagged];
  // Written the way Python's json.dumps writes non-finite floats, or in the other spellings
  // DuckDB reads (EVENTS.md rule 5: any letter case, `inf` too).
  const [nan, negInf] = NON_FINITE_SPELLINGS[(n / NON_FINITE_EVERY) % NON_FINITE_SPELLINGS.length];
  const text = JSON.stringify({ ...completed, summary: { win_rate: 0, calls: n } })
    .replace('"win_rate":0', `"win_rate":${nan},"worst":${negInf},"kept":1.0,"word":"inf"`);
  return [created, trial, text, tagged];
}

async function collect(batches: AsyncGenerator<string[]>): Promise<string[][]> {
  const out: string[][] = [];
  for await (const batch of batches) out.push([...batch]);
  return out;
}

/** Read every answer row by row. */
const ROWS: JsonStreamOptions = { blocksRowsMax: 0 };

/**
 * The texts of `stream` read both ways, after checking that they agree and
 * that each way was taken (by the sizes of the batches).
 */
async function bothWays(
  stream: (options: JsonStreamOptions) => AsyncGenerator<string[]>,
  label: string,
): Promise<string[]> {
  const blocks = await collect(stream({}));
  const rows = await collect(stream(ROWS));
  const flat = blocks.flat();
  assert.deepEqual(flat, rows.flat(), label);
  assert.ok(blocks.every((b) => b.length <= JSON_BLOCK_ROWS), `${label}: blocks`);
  if (flat.length > JSON_BLOCK_ROWS) {
    const largest = Math.max(...rows.map((b) => b.length));
    assert.ok(largest > JSON_BLOCK_ROWS, `${label}: the row stream took chunks`);
  }
  return flat;
}

/** How many of the fixture's runs `keep` keeps (by run number). */
function runsWhere(keep: (n: number) => boolean): number {
  return Array.from({ length: RUNS }, (_, n) => n).filter(keep).length;
}

Deno.test("json streams: blocks and rows give the same texts in the same order", async (t) => {
  await withTempDir(async (root) => {
    const lines = Array.from({ length: RUNS }, (_, n) => runLines(n)).flat();
    await writePart(root, join("day=2026-01-20", "part-blocks.jsonl"), lines);
    await rebuildIndex(root, {});
    const dbPath = join(root, "index", "runs.duckdb");
    await withReader(dbPath, async (conn) => {
      await t.step("runs", async () => {
        const queries: [RunQuery, number][] = [
          [{}, RUNS],
          [{ limit: 300 }, 300],
          [
            { types: ["sweep"], sort: [{ field: "summary.win_rate", descending: true }] },
            runsWhere((n) => n % 3 === 0),
          ],
          [{
            where: ["config.policy.stopPct >= 0.3 and run_id ~ '^blk-0'"],
            columns: ["config.policy.stopPct", "summary.calls", "config"],
            sort: [{ field: "summary.calls", descending: false }],
            limit: 250,
          }, 250],
          [{
            where: ["tags.grp = 'g1' or summary.calls < 50", "run_id ~ '^blk'"],
            columns: ["tags.grp", "config.note"],
            sort: [{ field: "tags.grp", descending: true }],
            limit: 200,
          }, Math.min(200, runsWhere((n) => n % 5 === 1 || n < 50))],
          [{ where: ["summary.calls = 97"] }, 1],
          [{ where: ["run_id = 'none'"] }, 0],
        ];
        for (const [query, count] of queries) {
          const label = JSON.stringify(query);
          const texts = await bothWays((o) => streamRunsJson(conn, query, o), label);
          assert.equal(texts.length, count, label);
          for (const text of texts) JSON.parse(text); // valid JSON, non-finite numbers included
        }
        const nanQuery = { where: ["summary.calls = 97"] };
        const [nan] = await bothWays((o) => streamRunsJson(conn, nanQuery, o), "NaN");
        assert.deepEqual(JSON.parse(nan).summary, {
          win_rate: null,
          worst: null,
          kept: 1,
          word: "inf",
          calls: 97,
        });
        // Only those tokens change: the row keeps its own spelling of the rest (1.0, not 1).
        assert.match(nan, /"win_rate":null,"worst":null,"kept":1\.0,"word":"inf"/);
        const sorted = (await collect(streamRunsJson(conn, {
          sort: [{ field: "summary.calls", descending: true }],
        }))).flat().map((text) => JSON.parse(text).summary.calls);
        assert.deepEqual(sorted, Array.from({ length: RUNS }, (_, i) => RUNS - 1 - i));
      });
      await t.step("trials", async () => {
        const queries: [TrialQuery, number][] = [
          [{}, RUNS],
          [
            {
              where: ["metrics.sharpe > 1"],
              sort: [{ field: "metrics.sharpe", descending: true }],
            },
            runsWhere((n) => (n % 11) / 5 > 1),
          ],
          [{ limit: 129, columns: ["params.stopPct"] }, 129],
        ];
        for (const [query, count] of queries) {
          const label = JSON.stringify(query);
          const texts = await bothWays((o) => streamTrialsJson(conn, query, o), label);
          assert.equal(texts.length, count, label);
        }
      });
    });
  });
});
