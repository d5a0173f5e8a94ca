/**
 * `ledger export` (SPEC 11): flat `root.path` columns whose types follow
 * what the JSON wrote, in the order the rows first hold them, the same rows
 * as `ledger runs --json`, and nothing written but the target.
 */
import {
  deepStrictEqual as deepEqual,
  ok,
  rejects,
  strictEqual as equal,
} from "node:assert/strict";
import { join } from "node:path";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { ev, T0, writePart } from "./_fixtures.ts";
import { indexPath } from "../../ledger/paths.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { exportIndex, queryRuns, withReader } from "../../indexer/query/mod.ts";
import { CLI_PATH, DENO_RUN, withTempDir } from "../_helpers.ts";

/** Each run's config (its summary is `{n: i}`), oldest first. */
const CONFIGS: Record<string, unknown>[] = [
  { int: 1, float: 0.5, whole: 2, mixed: 1, text: "a", flag: true, nested: { k: 1 }, list: [1, 2] },
  { int: 2, float: 1.0, whole: 3.0, mixed: "2", text: "7", flag: false, nested: { j: "x" } },
  { int: 3, float: "1.5", mixed: "x", flag: null, empty: {}, late: 9, nested: 4 },
];

async function describe(path: string): Promise<[string, string][]> {
  const instance = await DuckDBInstance.create(":memory:");
  const conn = await instance.connect();
  try {
    return (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`))
      .getRows().map((r) => [String(r[0]), String(r[1])]);
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

Deno.test("export: types as written, first-seen column order, runs' rows", async () => {
  await withTempDir(async (root) => {
    // Lines as Python writes them: 1.0 and 3.0 keep their fraction, NaN is a bare token.
    const lines = CONFIGS.flatMap((config, i) => [
      JSON.stringify(ev("run.created", `r${i}`, T0 + i * 60_000, {
        run_type: "t",
        config,
        data_fingerprint: "f",
      })).replace('"float":1,', '"float":1.0,').replace('"whole":3,', '"whole":3.0,'),
      JSON.stringify(ev("run.completed", `r${i}`, T0 + i * 60_000 + 1, {
        summary: { n: i },
        artifact_paths: {},
      })).replace('"summary":{"n":1}', '"summary":{"n":1,"nan":NaN,"odd":INF}')
        // The other spellings DuckDB reads (EVENTS.md rule 5), in a number and a text column.
        .replace('"summary":{"n":0}', '"summary":{"n":0,"nan":-inf,"odd":"x"}')
        .replace('"summary":{"n":2}', '"summary":{"n":2,"nan":nan}'),
    ]);
    await writePart(root, join("day=2026-01-20", "part-export.jsonl"), lines);
    await rebuildIndex(root, {});
    const parquet = join(root, "runs.parquet");
    const report = await exportIndex(indexPath(root), {
      what: "runs",
      format: "parquet",
      outPath: parquet,
    });
    equal(report.rows, CONFIGS.length);
    const flat = (await describe(parquet)).filter(([name]) => name.includes("."));
    deepEqual(flat, [
      ["summary.n", "BIGINT"],
      // NaN and infinities read as null (SPEC 3), however spelled, and the index stores them
      // so: a column without a value is DOUBLE, as it was when NaN was kept (VARCHAR made
      // another file's numbers text in read_parquet(union_by_name); BIGINT rounded them).
      ["summary.nan", "DOUBLE"],
      // "x" and INF: a text column, the infinity null in it.
      ["summary.odd", "VARCHAR"],
      ["config.int", "BIGINT"],
      // 0.5 and 1.0 are written as fractions: DOUBLE; "1.5" is a number in a number column.
      ["config.float", "DOUBLE"],
      ["config.whole", "DOUBLE"],
      // "x" is not a number: the column is text, its numbers as written.
      ["config.mixed", "VARCHAR"],
      // Numeric strings alone stay text.
      ["config.text", "VARCHAR"],
      ["config.flag", "BOOLEAN"],
      ["config.nested.k", "BIGINT"],
      ["config.list", "VARCHAR"],
      ["config.nested.j", "VARCHAR"],
      ["config.empty", "VARCHAR"],
      ["config.late", "BIGINT"],
      // A number where other rows have an object: its own column; the objects spread.
      ["config.nested", "BIGINT"],
    ]);
    const jsonl = join(root, "runs.jsonl");
    await exportIndex(indexPath(root), { what: "runs", format: "jsonl", outPath: jsonl });
    const rows = (await Deno.readTextFile(jsonl)).trim().split("\n").map((l) => JSON.parse(l));
    deepEqual(rows.map((r) => r.run_id), ["r0", "r1", "r2"]);
    deepEqual(rows.map((r) => r["config.float"]), [0.5, 1, 1.5]);
    deepEqual(rows.map((r) => r["config.mixed"]), ["1", "2", "x"]);
    deepEqual(rows.map((r) => r["config.list"]), ["[1,2]", null, null]);
    deepEqual(rows.map((r) => r["config.empty"]), [null, null, "{}"]);
    deepEqual(rows.map((r) => r["summary.nan"]), [null, null, null]);
    deepEqual(rows.map((r) => r["summary.odd"]), ["x", null, null]);
    deepEqual(rows.map((r) => r["config.flag"]), [true, false, null]);
    deepEqual(rows.map((r) => r["config.nested"]), [null, null, 4]);
    deepEqual(rows.map((r) => r["config.nested.k"]), [1, null, null]);
    // The fixed columns are those of `ledger runs --json`, with the same values.
    const listed = await withReader(
      indexPath(root),
      (conn) => queryRuns(conn, { sort: [{ field: "created_at", descending: false }] }),
    );
    for (const [i, run] of listed.entries()) {
      for (const key of ["run_id", "status", "created_at", "created_at_ms", "duration_ms"]) {
        equal(rows[i][key], (run as Record<string, unknown>)[key], key);
      }
    }
    // Nothing but the targets was written beside them.
    const names = [];
    for await (const e of Deno.readDir(root)) names.push(e.name);
    deepEqual(names.filter((n) => n.startsWith(".runs")), []);
  });
});

// An interop audit: such a column was DOUBLE, so a uint64 seed lost its last digits in every
// format (18446744073709551615 and ...614 both 1.8446744073709552e+19).
/** Below BIGINT's range (-2^63 - 1), and 2^64: integers json_structure calls DOUBLE. */
const NEG_PAST_BIGINT = "-9223372036854775809";
const TWO_TO_64 = "18446744073709551616";

Deno.test("export: an integer past BIGINT makes its column DECIMAL(38,0), exact", async () => {
  await withTempDir(async (root) => {
    const big = "12345678901234567890"; // past 2^63 - 1, below 2^64: json_structure's UBIGINT
    const lines = ["a", "b"].flatMap((run_id, i) => [
      JSON.stringify(ev("run.created", run_id, T0 + i, {
        run_type: "sweep",
        config: {},
        data_fingerprint: "f",
      })),
      JSON.stringify(ev("trial.recorded", run_id, T0 + 10 + i, {
        trial_id: "t1",
        params: { seed: 0, k: i, neg: 0, huge: 0 },
        metrics: { m: 1 },
      })).replace('"seed":0', `"seed":${i === 0 ? big : "7"}`)
        // Past 64 bits json_structure says DOUBLE (an export audit: the column was DOUBLE).
        .replace('"neg":0', `"neg":${i === 0 ? NEG_PAST_BIGINT : "5"}`)
        .replace('"huge":0', `"huge":${i === 1 ? TWO_TO_64 : "-3"}`),
    ]);
    await writePart(root, join("day=2026-01-20", "part-big.jsonl"), lines);
    await rebuildIndex(root, {});
    const out = join(root, "trials.parquet");
    const report = await exportIndex(indexPath(root), {
      what: "trials",
      format: "parquet",
      outPath: out,
    });
    equal(report.rows, 2);
    deepEqual((await describe(out)).filter(([n]) => n.includes(".")), [
      ["params.seed", "DECIMAL(38,0)"],
      ["params.k", "BIGINT"],
      ["params.neg", "DECIMAL(38,0)"],
      ["params.huge", "DECIMAL(38,0)"],
      ["metrics.m", "DOUBLE"], // a trial's metric is a measure (number_fields.ts)
    ]);
    const jsonl = join(root, "trials.jsonl");
    await exportIndex(indexPath(root), { what: "trials", format: "jsonl", outPath: jsonl });
    const text = await Deno.readTextFile(jsonl);
    ok(text.includes(`"params.seed":${big}`), text);
    ok(text.includes(`"params.neg":${NEG_PAST_BIGINT}`), text);
    ok(text.includes(`"params.neg":5,`), text); // not 5.0
    ok(text.includes(`"params.huge":${TWO_TO_64}`), text);
    const rows = text.trim().split("\n").map((l) => JSON.parse(l));
    deepEqual(rows.map((r) => r["params.k"]), [0, 1]);
    const csv = join(root, "trials.csv");
    await exportIndex(indexPath(root), { what: "trials", format: "csv", outPath: csv });
    const csvText = await Deno.readTextFile(csv);
    ok(csvText.includes(`,${big},`), "csv keeps the digits");
    ok(csvText.includes(`,${NEG_PAST_BIGINT},`) && csvText.includes(`,${TWO_TO_64},`), csvText);
  });
});

// A types audit: typed by their values, a sweep of whole metrics wrote metrics.win_rate BIGINT,
// another DOUBLE, and DuckDB's read_parquet of both files read 0.25 as 0.
Deno.test("export: a measure is DOUBLE whatever its values, a count or a seed BIGINT", async () => {
  await withTempDir(async (root) => {
    const lines = [
      JSON.stringify(ev("run.created", "sw", T0, {
        run_type: "sweep",
        config: {
          policy: { type: "time_stop", maxHoldMs: 60_000, takeProfitPct: 2 },
          seed: 7,
          fee_bps: 0, // another run's is 2.5
        },
        data_fingerprint: "f",
      })),
      ...[0, 1].map((i) =>
        JSON.stringify(ev("trial.recorded", "sw", T0 + 1 + i, {
          trial_id: `t${i}`,
          params: { type: "time_stop", maxHoldMs: 60_000 * (i + 1), takeProfitPct: 2 + i },
          metrics: {
            calls: 4,
            calls_skipped: 0,
            win_rate: i,
            mean_return_bps: 100,
            score: 3,
            sharpe_per_trade: null, // one call: no deviation
          },
        }))
      ),
      JSON.stringify(ev("run.completed", "sw", T0 + 5, {
        summary: {
          rows_in: 4,
          win_rate: 1,
          best_trial: { trial_id: "t1", metrics: { calls: 4, win_rate: 1, score: 3 } },
          by_caller: { amy: { count: 4, win_rate: 1, win_rate_ci_low: 1 } },
        },
        artifact_paths: {},
      })),
    ];
    await writePart(root, join("day=2026-01-20", "part-measure.jsonl"), lines);
    await rebuildIndex(root, {});
    const trials = join(root, "trials.parquet");
    await exportIndex(indexPath(root), { what: "trials", format: "parquet", outPath: trials });
    deepEqual((await describe(trials)).filter(([n]) => n.includes(".")), [
      ["params.type", "VARCHAR"],
      ["params.maxHoldMs", "BIGINT"], // an integer by the policy's schema
      ["params.takeProfitPct", "DOUBLE"], // a policy's fraction
      ["metrics.calls", "BIGINT"],
      ["metrics.calls_skipped", "BIGINT"],
      ["metrics.win_rate", "DOUBLE"],
      ["metrics.mean_return_bps", "DOUBLE"],
      ["metrics.score", "DOUBLE"], // any trial metric but a count of calls
      ["metrics.sharpe_per_trade", "DOUBLE"], // no value at all: still a number column
    ]);
    const runs = join(root, "runs.parquet");
    await exportIndex(indexPath(root), { what: "runs", format: "parquet", outPath: runs });
    const types = new Map(await describe(runs));
    deepEqual(
      [
        "summary.rows_in",
        "summary.win_rate",
        "summary.best_trial.metrics.calls",
        "summary.best_trial.metrics.win_rate",
        "summary.best_trial.metrics.score",
        "summary.by_caller.amy.count",
        "summary.by_caller.amy.win_rate",
        "summary.by_caller.amy.win_rate_ci_low",
        "config.policy.maxHoldMs",
        "config.policy.takeProfitPct",
        "config.seed",
        "config.fee_bps",
      ].map((c) => `${c} ${types.get(c)}`),
      [
        "summary.rows_in BIGINT",
        "summary.win_rate DOUBLE",
        "summary.best_trial.metrics.calls BIGINT",
        "summary.best_trial.metrics.win_rate DOUBLE",
        // Outside a trial's metrics only the backtests' own measures are known as such.
        "summary.best_trial.metrics.score BIGINT",
        "summary.by_caller.amy.count BIGINT",
        "summary.by_caller.amy.win_rate DOUBLE",
        "summary.by_caller.amy.win_rate_ci_low DOUBLE",
        "config.policy.maxHoldMs BIGINT",
        "config.policy.takeProfitPct DOUBLE",
        "config.seed BIGINT",
        "config.fee_bps DOUBLE",
      ],
    );
  });
});

// A measure holding an integer a double cannot hold keeps it: text, as any such number column.
Deno.test("export: a measure with an integer a double cannot hold is text, exact", async () => {
  await withTempDir(async (root) => {
    const lines = [
      JSON.stringify(ev("run.created", "sw", T0, {
        run_type: "sweep",
        config: {},
        data_fingerprint: "f",
      })),
      ...["9007199254740993", "1"].map((v, i) =>
        JSON.stringify(ev("trial.recorded", "sw", T0 + 1 + i, {
          trial_id: `t${i}`,
          params: {},
          metrics: { score: 0 },
        })).replace('"score":0', `"score":${v}`)
      ),
    ];
    await writePart(root, join("day=2026-01-20", "part-big-measure.jsonl"), lines);
    await rebuildIndex(root, {});
    const out = join(root, "trials.jsonl");
    const r = await exportIndex(indexPath(root), { what: "trials", format: "jsonl", outPath: out });
    deepEqual(r.numbersAsText, ["metrics.score"]);
    ok((await Deno.readTextFile(out)).includes('"metrics.score":"9007199254740993"'));
  });
});

// A fidelity audit: 9007199254740993 beside 0.5 made a DOUBLE column, so it was written
// 9007199254740992.0, the same as another run's seed, in every format.
Deno.test("export: a number column with an integer a double cannot hold is text, exact", async () => {
  await withTempDir(async (root) => {
    const seeds = ["9007199254740993", "9007199254740992", "0.5"];
    const past38 = "123456789012345678901234567890123456789012"; // 42 digits: past DECIMAL(38,0)
    const lines = seeds.map((seed, i) =>
      JSON.stringify(ev("run.created", `r${i}`, T0 + i, {
        run_type: "t",
        // t: numeric text, as a string (a review: "9007199254740993.0" still merged).
        config: {
          seed: 0,
          k: 0.25,
          big: i,
          t: ["9007199254740993.0", "9007199254740992.0", 0.5][i],
        },
        data_fingerprint: "f",
      })).replace('"seed":0', `"seed":${seed}`).replace(
        `"big":${i}`,
        `"big":${i === 0 ? past38 : i}`,
      )
    );
    await writePart(root, join("day=2026-01-20", "part-seed.jsonl"), lines);
    await rebuildIndex(root, {});
    const out = join(root, "runs.parquet");
    const report = await exportIndex(indexPath(root), {
      what: "runs",
      format: "parquet",
      outPath: out,
    });
    deepEqual(report.numbersAsText, ["config.seed", "config.big", "config.t"]);
    deepEqual((await describe(out)).filter(([n]) => n.startsWith("config.")), [
      ["config.seed", "VARCHAR"],
      ["config.k", "DOUBLE"], // no such integer: still a number column
      ["config.big", "VARCHAR"],
      ["config.t", "VARCHAR"],
    ]);
    for (const format of ["csv", "jsonl"] as const) {
      const path = join(root, `runs.${format}`);
      const r = await exportIndex(indexPath(root), { what: "runs", format, outPath: path });
      deepEqual(r.numbersAsText, ["config.seed", "config.big", "config.t"]);
      const text = await Deno.readTextFile(path);
      for (const seed of [...seeds, past38, "9007199254740993.0"]) {
        ok(text.includes(seed), `${format}: ${seed} in ${text}`);
      }
      // Once: run r1's t as logged; neither r0's seed nor r0's t rounded to it.
      equal(text.split("9007199254740992.0").length, 2, text);
    }
    // The command says which columns are text, on stderr; stdout keeps its one line.
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        ...DENO_RUN,
        "-A",
        CLI_PATH,
        "export",
        "runs",
      ]
        .concat(["--root", root, "--format", "csv", "--out", join(root, "cli.csv")]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(child.stderr);
    equal(child.code, 0, stderr);
    equal(
      stderr,
      "ledger export: columns config.seed, config.big, config.t written as text, each number as " +
        "logged: a number column would round some of their integers\n",
    );
    equal(new TextDecoder().decode(child.stdout).trim().split("\n").length, 1);
  });
});

Deno.test("export: a target DuckDB cannot write is named, not its temporary file", async () => {
  await withTempDir(async (root) => {
    await writePart(root, join("day=2026-01-20", "part-1.jsonl"), [
      JSON.stringify(
        ev("run.created", "r1", T0, { run_type: "t", config: {}, data_fingerprint: "f" }),
      ),
    ]);
    await rebuildIndex(root, {});
    // /proc exists and is a directory, but no file can be created in it. Deno lets a process
    // look there only with --allow-all: the command runs as a child that has it.
    const out = "/proc/ledger-export-test.csv";
    const child = await new Deno.Command(Deno.execPath(), {
      args: [
        ...DENO_RUN,
        "-A",
        CLI_PATH,
        "export",
        "runs",
      ]
        .concat(["--root", root, "--format", "csv", "--out", out]),
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(child.stderr);
    equal(child.code, 1, stderr);
    equal(stderr.startsWith(`ledger export: Cannot write ${out}: `), true, stderr);
    equal(stderr.includes(".tmp-"), false, stderr);
  });
});

Deno.test("export: a FIFO or a device as the target is refused, never replaced", async () => {
  await withTempDir(async (root) => {
    await writePart(root, join("day=2026-01-20", "part-1.jsonl"), [
      JSON.stringify(
        ev("run.created", "r1", T0, { run_type: "t", config: {}, data_fingerprint: "f" }),
      ),
    ]);
    await rebuildIndex(root, {});
    const fifo = join(root, "out.fifo");
    await new Deno.Command("mkfifo", { args: [fifo] }).output();
    for (const outPath of [fifo, "/dev/null"]) {
      await rejects(
        exportIndex(indexPath(root), { what: "runs", format: "csv", outPath }),
        /it is a (FIFO|device)/,
      );
    }
    ok(Deno.lstatSync(fifo).isFifo);
    ok(Deno.lstatSync("/dev/null").isCharDevice);
  });
});

Deno.test("export: numeric text past a double's range makes its column text, as logged", async () => {
  await withTempDir(async (root) => {
    // Beside numbers, "1e400" read as a DOUBLE was null in every format (an export probe).
    const values = ["1e400", 1, 2, "-1e999", "2.5"];
    await writePart(
      root,
      join("day=2026-01-20", "part-range.jsonl"),
      values.map((v, i) =>
        ev("run.created", `r${i}`, T0 + i, {
          run_type: "t",
          config: { x: v, y: i % 2 === 0 ? String(i) : i }, // y: numeric text in range
          data_fingerprint: "f",
        })
      ),
    );
    await rebuildIndex(root, {});
    const out = join(root, "runs.parquet");
    await exportIndex(indexPath(root), { what: "runs", format: "parquet", outPath: out });
    deepEqual((await describe(out)).filter(([n]) => n.startsWith("config.")), [
      ["config.x", "VARCHAR"],
      ["config.y", "BIGINT"],
    ]);
    const path = join(root, "runs.jsonl");
    await exportIndex(indexPath(root), { what: "runs", format: "jsonl", outPath: path });
    const rows = (await Deno.readTextFile(path)).trim().split("\n").map((l) => JSON.parse(l));
    const byRun = Object.fromEntries(rows.map((r) => [r.run_id, [r["config.x"], r["config.y"]]]));
    deepEqual(byRun, {
      r0: ["1e400", 0],
      r1: ["1", 1],
      r2: ["2", 2],
      r3: ["-1e999", 3],
      r4: ["2.5", 4],
    });
  });
});
