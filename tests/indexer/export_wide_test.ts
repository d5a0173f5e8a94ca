/**
 * `ledger export runs` of wide and huge configs in a bounded reader: the
 * typed columns are made 128 at a time, and every JSON function reads the
 * rows in slices sized to the memory limit (`indexer/query/export.ts`).
 * Before, 400 configs of 1,651 paths (23 KB each) and 60 configs holding an
 * array of 50,000 numbers (420 KB each) both ran a 256MB reader out of
 * memory; 1,000 of the first or 190 of the second a 512MB one. Configs whose
 * keys change kind from run to run ran out of memory in the type checks
 * before the write (each parsed every config once per path).
 */
import {
  deepStrictEqual as deepEqual,
  ok as assert,
  strictEqual as equal,
} from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { exportIndex } from "../../indexer/query/mod.ts";
import { longOnly, withTempDir } from "../_helpers.ts";

/** The reader's memory limit of both tests: the old export failed under it. */
const MEMORY_LIMIT = "256MB";
const SIDES = ["long", "short"] as const;

/** A config of `symbols` symbols of 9 leaves each (about 23 KB at 150). */
function wideConfig(run: number, symbols: number): Record<string, unknown> {
  const bySymbol: Record<string, unknown> = {};
  for (let s = 0; s < symbols; s++) {
    bySymbol[`SYM${s}`] = {
      stop: (run % 7) * 0.01 + s / 1000,
      take: 1 + s,
      window: 20 + run % 5,
      side: SIDES[s % 2],
      enabled: s % 3 === 0,
      fee: { bps: 3, min: 0.5 },
      size: { max: 1000 + run, min: 1 },
      extra: run % 2 === 1 ? { note: `x${run}` } : null,
    };
  }
  return { strategy: "grid", symbols: bySymbol };
}

/** 50,000 numbers of six decimals, different for each run. */
function weights(run: number): number[] {
  return Array.from(
    { length: 50_000 },
    (_, i) => Math.round(((i * 7919 + run) % 10007) / 10007 * 1e6) / 1e6,
  );
}

async function indexRuns(root: string, configs: Record<string, unknown>[]): Promise<void> {
  const lines = configs.map((config, r) =>
    ev("run.created", `run-${r}`, T0 + r * 1000, { run_type: "p", config, data_fingerprint: "f" })
  );
  await writePart(root, join("day=2026-01-20", "part-wide.jsonl"), lines);
  await rebuildIndex(root, {});
}

/** Export the runs as `format` in a reader of {@linkcode MEMORY_LIMIT}; the rows as written. */
async function exportRuns(
  root: string,
  format: "parquet" | "jsonl",
): Promise<Record<string, unknown>[]> {
  const outPath = join(root, `runs.${format}`);
  const report = await exportIndex(indexPath(root), { what: "runs", format, outPath }, {
    memoryLimit: MEMORY_LIMIT,
  });
  const rows = format === "jsonl"
    ? (await Deno.readTextFile(outPath)).trimEnd().split("\n").map((line) =>
      JSON.parse(line) as Record<string, unknown>
    )
    : await readParquet(outPath);
  equal(rows.length, report.rows);
  return rows;
}

/** The rows of a Parquet file in file order, integers as numbers. */
async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(`SELECT * FROM read_parquet('${path}')`);
    return reader.getRowObjectsJS().map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? Number(v) : v]),
      )
    );
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

Deno.test({
  name:
    `export: 400 configs of 1,651 paths to Parquet in a ${MEMORY_LIMIT} reader, every value in place`,
  ignore: longOnly(import.meta.url),
}, async () => {
  await withTempDir(async (root) => {
    const runs = 400;
    await indexRuns(root, Array.from({ length: runs }, (_, r) => wideConfig(r, 150)));
    const rows = await exportRuns(root, "parquet");
    equal(rows.length, runs);
    // 14 fixed columns, strategy, and 150 symbols x 11 paths (10 leaves, and `extra` itself,
    // null in half the runs): far more than the 128 typed in one statement.
    equal(Object.keys(rows[0]).length, 14 + 1 + 150 * 11);
    // In the order of their creation: the typed columns' tables line up with the rows.
    deepEqual(rows.map((row) => row.run_id), Array.from({ length: runs }, (_, r) => `run-${r}`));
    for (const [r, row] of rows.entries()) {
      equal(row["config.strategy"], "grid");
      for (const s of [0, 3, 77, 149]) {
        const at = `config.symbols.SYM${s}`;
        equal(row[`${at}.stop`], (r % 7) * 0.01 + s / 1000, `${at}.stop of run ${r}`);
        equal(row[`${at}.take`], 1 + s);
        equal(row[`${at}.side`], SIDES[s % 2]);
        equal(row[`${at}.enabled`], s % 3 === 0);
        equal(row[`${at}.size.max`], 1000 + r);
        equal(row[`${at}.extra.note`], r % 2 === 1 ? `x${r}` : null);
      }
    }
  });
});

Deno.test({
  name: `export: 60 configs holding 50,000 numbers each in a ${MEMORY_LIMIT} reader`,
  ignore: longOnly(import.meta.url),
}, async () => {
  await withTempDir(async (root) => {
    const runs = 60;
    await indexRuns(
      root,
      Array.from({ length: runs }, (_, r) => ({ symbol: `SYM${r % 10}`, weights: weights(r) })),
    );
    const rows = await exportRuns(root, "jsonl");
    deepEqual(rows.map((row) => row.run_id), Array.from({ length: runs }, (_, r) => `run-${r}`));
    for (const [r, row] of rows.entries()) {
      equal(row["config.symbol"], `SYM${r % 10}`);
      // An array is one column, its JSON text.
      deepEqual(JSON.parse(String(row["config.weights"])), weights(r), `weights of run ${r}`);
    }
  });
});

/** `JSON.rawJSON` (ES2025, not in this TypeScript's lib): a literal `JSON.stringify` writes as is. */
const RAW_JSON = JSON as unknown as { rawJSON(text: string): unknown };

/**
 * Key `k<i>` of run `r`, of a kind that changes from run to run: integers
 * and numeric text, doubles and integers, and integers past BIGINT
 * (2^63 + r, written as the literal) and small ones.
 */
function mixedConfig(run: number, keys: number): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (let i = 0; i < keys; i++) {
    const even = run % 2 === 0;
    config[`k${i}`] = i % 3 === 0
      ? (even ? run * 3 + i : String(run * 3 + i))
      : i % 3 === 1
      ? (even ? (run + i) / 8 : i)
      : (even ? RAW_JSON.rawJSON(String(2n ** 63n + BigInt(run))) : run);
  }
  return config;
}

/** A reader small enough that {@linkcode mixedConfig}'s 200 runs are read in several slices. */
const SLICED_MEMORY_LIMIT = "128MB";

Deno.test(`export: 200 configs of 120 keys of mixed kinds, in slices of a ${SLICED_MEMORY_LIMIT} reader`, async () => {
  // Each type check parsed every row's whole config once per path: 600 such paths held 600
  // parsed copies at once (20 runs of 2,000 keys needed more than 3 GB). Read in slices (the
  // 20 KB pad), a check found true in one slice must not shift the next slice's answers.
  await withTempDir(async (root) => {
    const runs = 200;
    const keys = 120;
    await indexRuns(
      root,
      Array.from(
        { length: runs },
        (_, r) => ({ ...mixedConfig(r, keys), pad: "x".repeat(20_000) }),
      ),
    );
    const outPath = join(root, "runs.jsonl");
    const report = await exportIndex(indexPath(root), { what: "runs", format: "jsonl", outPath }, {
      memoryLimit: SLICED_MEMORY_LIMIT,
    });
    equal(report.rows, runs);
    deepEqual(report.numbersAsText, []);
    const lines = (await Deno.readTextFile(outPath)).trimEnd().split("\n");
    for (const [r, line] of lines.entries()) {
      const row = JSON.parse(line) as Record<string, unknown>;
      equal(row.run_id, `run-${r}`);
      for (let i = 0; i < keys; i++) {
        const key = `config.k${i}`;
        if (i % 3 === 0) equal(row[key], r * 3 + i, `${key} of run ${r}: numeric text is a number`);
        if (i % 3 === 1) equal(row[key], r % 2 === 0 ? (r + i) / 8 : i, `${key} of run ${r}`);
        // Past BIGINT: DECIMAL(38,0), every digit kept.
        const wide = r % 2 === 0 ? String(2n ** 63n + BigInt(r)) : String(r);
        if (i % 3 === 2) assert(line.includes(`"${key}":${wide},`), `${key} of run ${r}`);
      }
    }
  });
});
