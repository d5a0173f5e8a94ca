/**
 * Flat names (`indexer/query/flat_path.ts`): `ledger export` gives every
 * path its own column, whatever its keys hold: a key with a `.` is not the
 * path through two keys, and names equal ignoring case (one name to DuckDB)
 * are told apart, in every format, with no value lost.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal, throws } from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import {
  caseDistinctNames,
  exportIndex,
  flatPathName,
  flatPathSegments,
} from "../../indexer/query/mod.ts";
import { withTempDir } from "../_helpers.ts";

/** Configs that collide under the old names: case, a dotted key against a path. */
const CONFIGS: [string, Record<string, unknown>][] = [
  ["r1", { N: 20, n: 5 }],
  ["r2", { "a.b": 1 }],
  ["r3", { a: { b: 2 } }],
];

async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT * FROM read_parquet('${path}') ORDER BY run_id`,
    );
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

async function readCsv(path: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    const reader = await conn.runAndReadAll(
      `SELECT * FROM read_csv('${path}', header = true) ORDER BY run_id`,
    );
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

async function buildIndex(root: string): Promise<void> {
  const lines = CONFIGS.map(([runId, config], i) =>
    ev("run.created", runId, T0 + i * 60_000, { run_type: "p", config, data_fingerprint: "f" })
  );
  await writePart(root, join("day=2026-01-20", "part-flat.jsonl"), lines);
  await rebuildIndex(root, {});
}

Deno.test("export: paths that flatten alike keep distinct columns and every value", async (t) => {
  await withTempDir(async (root) => {
    await buildIndex(root);
    const expected = [
      // r1: N and n are one name to DuckDB: n gets a suffix, both values kept.
      { "config.N": 20, "config.n~2": 5, "config.a\\.b": null, "config.a.b": null },
      // r2: the key "a.b" is `a\.b`.
      { "config.N": null, "config.n~2": null, "config.a\\.b": 1, "config.a.b": null },
      // r3: the path a -> b is `a.b`; its 2 is no longer lost.
      { "config.N": null, "config.n~2": null, "config.a\\.b": null, "config.a.b": 2 },
    ];
    const pick = (row: Record<string, unknown>) =>
      Object.fromEntries(Object.keys(expected[0]).map((k) => [k, row[k] ?? null]));

    await t.step("csv: header and values", async () => {
      const out = join(root, "runs.csv");
      const report = await exportIndex(indexPath(root), {
        what: "runs",
        format: "csv",
        outPath: out,
      });
      deepEqual(report.columns.filter((c) => c.startsWith("config.")), Object.keys(expected[0]));
      const [header, ...rows] = (await Deno.readTextFile(out)).trim().split("\n");
      const names = header.split(",");
      deepEqual(names.filter((c) => c.startsWith("config.")), Object.keys(expected[0]));
      const cells = rows.map((line) => {
        const values = line.split(",");
        return Object.fromEntries(
          Object.keys(expected[0]).map((k) => {
            const v = values[names.indexOf(k)];
            return [k, v === "" ? null : Number(v)];
          }),
        );
      });
      deepEqual(cells, expected);
    });

    await t.step("jsonl: written (no duplicate struct entry), same values", async () => {
      const out = join(root, "runs.jsonl");
      await exportIndex(indexPath(root), { what: "runs", format: "jsonl", outPath: out });
      const rows = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
      deepEqual(rows.map((r) => r.run_id), ["r1", "r2", "r3"]);
      deepEqual(rows.map(pick), expected);
    });

    await t.step("parquet: same columns and values", async () => {
      const out = join(root, "runs.parquet");
      await exportIndex(indexPath(root), { what: "runs", format: "parquet", outPath: out });
      const rows = await readParquet(out);
      deepEqual(rows.map((r) => r.run_id), ["r1", "r2", "r3"]);
      deepEqual(
        rows.map(pick).map((r) =>
          Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v === null ? null : Number(v)]))
        ),
        expected,
      );
    });
  });
});

// A fidelity audit: one key holding U+0000 failed every export of the index with DuckDB's
// "unterminated quoted identifier" (the NUL ended its reading of the statement).
Deno.test("export: a key holding a NUL is the column `\\0`, apart from a key holding `\\0`", async () => {
  await withTempDir(async (root) => {
    const lines = [
      ev("run.created", "r1", T0, { run_type: "p", config: { "x\0y": 1 }, data_fingerprint: "f" }),
      ev("run.created", "r2", T0 + 1, {
        run_type: "p",
        config: { "x\\0y": 2 },
        data_fingerprint: "f",
      }),
    ];
    await writePart(root, join("day=2026-01-20", "part-nul.jsonl"), lines);
    await rebuildIndex(root, {});
    const out = join(root, "runs.parquet");
    const report = await exportIndex(indexPath(root), {
      what: "runs",
      format: "parquet",
      outPath: out,
    });
    deepEqual(report.columns.filter((c) => c.startsWith("config.")), [
      "config.x\\0y",
      "config.x\\\\0y",
    ]);
    deepEqual(
      (await readParquet(out)).map((r) =>
        [r["config.x\\0y"], r["config.x\\\\0y"]].map((v) => v === null ? null : Number(v))
      ),
      [[1, null], [null, 2]],
    );
  });
});

// A key of digits reads an array's element as well as an object's key, in the export's columns as
// in `runs --columns` and `--where` (a sweep names a ladder's parameters `levels.0.multiple`). A
// probe once found the export alone reading arrays, while every other command said null.
Deno.test("export: a key of digits reads an array's element, as runs does", async (t) => {
  await withTempDir(async (root) => {
    const lines = [
      ev("run.created", "arr", T0, {
        run_type: "p",
        config: { weights: [0.2, 0.8] },
        data_fingerprint: "f",
      }),
      ev("run.created", "obj", T0 + 1, {
        run_type: "p",
        config: { weights: { "0": 0.5, "1": 0.5 } },
        data_fingerprint: "f",
      }),
    ];
    await writePart(root, join("day=2026-01-20", "part-digits.jsonl"), lines);
    await rebuildIndex(root, {});
    const expected = [
      { run_id: "arr", "config.weights.0": 0.2, "config.weights.1": 0.8 },
      { run_id: "obj", "config.weights.0": 0.5, "config.weights.1": 0.5 },
    ];
    const pick = (row: Record<string, unknown>) => ({
      run_id: row.run_id,
      "config.weights.0": row["config.weights.0"] === null ? null : Number(row["config.weights.0"]),
      "config.weights.1": row["config.weights.1"] === null ? null : Number(row["config.weights.1"]),
    });
    await t.step("jsonl", async () => {
      const out = join(root, "runs.jsonl");
      await exportIndex(indexPath(root), { what: "runs", format: "jsonl", outPath: out });
      const rows = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
      deepEqual(rows.map(pick), expected);
      equal(rows[0]["config.weights"], "[0.2,0.8]"); // the array, once, as JSON text
      // The export's own filter reads the same element.
      const filtered = join(root, "filtered.jsonl");
      await exportIndex(indexPath(root), {
        what: "runs",
        format: "jsonl",
        outPath: filtered,
        where: ["config.weights.0 = 0.2"],
      });
      const kept = (await Deno.readTextFile(filtered)).trim().split("\n");
      deepEqual(kept.map((l) => JSON.parse(l).run_id), ["arr"]);
    });
    await t.step("parquet", async () => {
      const out = join(root, "runs.parquet");
      await exportIndex(indexPath(root), { what: "runs", format: "parquet", outPath: out });
      deepEqual((await readParquet(out)).map(pick), expected);
    });
    await t.step("csv", async () => {
      const out = join(root, "runs.csv");
      await exportIndex(indexPath(root), { what: "runs", format: "csv", outPath: out });
      deepEqual((await readCsv(out)).map(pick), expected);
    });
  });
});

Deno.test("flat names: escaping and case suffixes", async (t) => {
  await t.step("a dotted key and a path have different names, read back", () => {
    equal(flatPathName(["a.b"]), "a\\.b");
    equal(flatPathName(["a", "b"]), "a.b");
    equal(flatPathName(["a\\", "b"]), "a\\\\.b");
    equal(flatPathName(["a\\.b"]), "a\\\\\\.b");
    for (
      const segments of [["a.b"], ["a", "b"], ["a\\", "b"], ["a\\.b"], ["", "x."], ["x\\"], ["."]]
    ) {
      deepEqual(flatPathSegments(flatPathName(segments)), segments);
    }
  });

  await t.step("names equal ignoring ASCII case: the first by code point keeps its name", () => {
    deepEqual(caseDistinctNames(["c.n", "c.N"]), ["c.n~2", "c.N"]);
    deepEqual(caseDistinctNames(["c.N", "c.n"]), ["c.N", "c.n~2"], "not the order given");
    // A suffix already taken (ignoring case) is skipped.
    deepEqual(caseDistinctNames(["c.n", "c.N", "c.N~2"]), ["c.n~3", "c.N", "c.N~2"]);
    deepEqual(caseDistinctNames(["c.ab", "c.aB", "c.Ab"]), ["c.ab~3", "c.aB~2", "c.Ab"]);
    // DuckDB folds ASCII letters only: É and é are two names.
    deepEqual(caseDistinctNames(["c.É", "c.é"]), ["c.É", "c.é"]);
    throws(() => caseDistinctNames(["x", "x"]), /Invariant/);
  });
});

// A contract audit: the flat columns came in the order the rows first had them, so config.* and
// summary.* columns alternated; `ledger export --help` lists them grouped.
Deno.test("export: flat columns are grouped by root, summary.* then config.*", async () => {
  await withTempDir(async (root) => {
    // The first row ("a") has a config only (no run.completed), the next ("b") a summary and a
    // config: in the order the rows first have them, config.*, summary.*, config.* alternate.
    await writePart(root, join("day=2026-01-20", "part-groups.jsonl"), [
      ev("run.created", "a", T0, { run_type: "p", config: { ca: 1 }, data_fingerprint: "f" }),
      ev("run.created", "b", T0 + 60_000, {
        run_type: "p",
        config: { cb: 2 },
        data_fingerprint: "f",
      }),
      ev("run.completed", "b", T0 + 60_001, { summary: { sb: 3 }, artifact_paths: {} }),
    ]);
    await rebuildIndex(root, {});
    const out = join(root, "runs.csv");
    await exportIndex(indexPath(root), { what: "runs", format: "csv", outPath: out });
    const header = (await Deno.readTextFile(out)).split("\n")[0].split(",");
    const flat = header.filter((c) => /^(summary|config|tags)\./.test(c));
    const rows = (await Deno.readTextFile(out)).trim().split("\n").slice(1);
    equal(rows[0].split(",")[0], "a", "the row that has a config only comes first");
    deepEqual(flat, ["summary.sb", "config.ca", "config.cb"]);
  });
});
