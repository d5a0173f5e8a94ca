/**
 * Integers past 2^53 (a seed written by Python) are shown as the log holds
 * them in every format of `ledger runs` and `ledger trials`, and `ledger
 * compare` sees two such integers that `JSON.parse` would round alike.
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { isExactInteger, parseJsonLenient } from "../../indexer/query/mod.ts";
import { cellText, csvField } from "../../cli/_table.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

const BIG = "9007199254740993"; // 2^53 + 1: JSON.parse reads 9007199254740992
const BIG_EVEN = "9007199254740992"; // 2^53

/** A part file as Python writes it: the integers as literal digits. */
function pythonLines(): string {
  const t0 = Date.UTC(2026, 0, 20, 12);
  const line = (fields: string) => `{${fields}}\n`;
  return [
    line(
      `"event_type": "run.created", "event_id": "big-1", "timestamp_ms": ${t0}, "run_id": "p1", ` +
        `"run_type": "policy", "data_fingerprint": "f", "config": {"seed": ${BIG}, "neg": -${BIG}}`,
    ),
    line(
      `"event_type": "run.created", "event_id": "big-2", "timestamp_ms": ${t0 + 1}, ` +
        `"run_id": "p2", "run_type": "policy", "data_fingerprint": "f", ` +
        `"config": {"seed": ${BIG_EVEN}, "neg": -${BIG}}`,
    ),
    line(
      `"event_type": "run.started", "event_id": "big-3", "timestamp_ms": ${t0 + 2}, ` +
        `"run_id": "p1"`,
    ),
    line(
      `"event_type": "trial.recorded", "event_id": "big-4", "timestamp_ms": ${t0 + 3}, ` +
        `"run_id": "p1", "trial_id": "t1", "params": {"seed": ${BIG}}, ` +
        `"metrics": {"sharpe": NaN, "n": ${BIG}}`,
    ),
    line(
      `"event_type": "run.completed", "event_id": "big-5", "timestamp_ms": ${t0 + 4}, ` +
        `"run_id": "p1", "summary": {"count": ${BIG}, "nan": NaN}, "artifact_paths": {}`,
    ),
  ].join("");
}

async function buildIndex(root: string): Promise<void> {
  const dir = join(root, "events", "day=2026-01-20");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "part-000001.jsonl"), pythonLines());
  await rebuildIndex(root, {});
}

Deno.test("integers past 2^53: every format of runs and trials, and compare", async (t) => {
  await withTempDir(async (root) => {
    await buildIndex(root);
    const runs = (...args: string[]) =>
      runLedger(["runs", "--root", root, "--columns", "config.seed,config.neg", ...args]);

    await t.step("compare --json lists config.seed with both values exact", async () => {
      const r = await runLedger(["compare", "--root", root, "p1", "p2", "--json"]);
      equal(r.code, 0, r.stderr);
      const config = r.stdout.slice(r.stdout.indexOf('"config"'), r.stdout.indexOf('"summary"'));
      match(config, new RegExp(`"seed": \\{\\s*"p1": ${BIG},\\s*"p2": ${BIG_EVEN}\\s*\\}`));
      ok(!config.includes('"neg"'), "equal integers are equal");
      const c = JSON.parse(r.stdout);
      deepEqual(Object.keys(c.config), ["seed"]);
      match(r.stdout, new RegExp(`"count": \\{\\s*"p1": ${BIG},\\s*"p2": null`));
    });

    await t.step(
      "--where and --sort tell them apart (a query audit: compared as doubles)",
      async () => {
        const ids = async (...args: string[]) => {
          const r = await runLedger(["runs", "--root", root, "--format", "jsonl", ...args]);
          equal(r.code, 0, r.stderr);
          return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) =>
            JSON.parse(l).run_id
          );
        };
        deepEqual(await ids("--where", `config.seed = ${BIG}`), ["p1"]);
        deepEqual(await ids("--where", `config.seed != ${BIG}`), ["p2"]);
        deepEqual(await ids("--where", `config.seed > ${BIG_EVEN}`), ["p1"]);
        deepEqual(await ids("--where", `config.seed <= ${BIG_EVEN}`), ["p2"]);
        deepEqual(await ids("--where", `config.neg < -${BIG_EVEN}`), ["p2", "p1"]);
        deepEqual(await ids("--sort", "config.seed:desc"), ["p1", "p2"]); // newest first: p2, p1
        deepEqual(await ids("--sort", "config.seed:asc"), ["p2", "p1"]);
        const trials = await runLedger([
          "trials",
          "--root",
          root,
          "--format",
          "jsonl",
          "--where",
          `params.seed = ${BIG_EVEN}`,
        ]);
        equal(trials.code, 0, trials.stderr);
        equal(trials.stdout.trim(), "", "the trial's seed is 2^53 + 1, not 2^53");
      },
    );

    await t.step(
      "--where compares exactly however the number is written (probe 29: as doubles)",
      async () => {
        const ids = async (where: string) => {
          const r = await runLedger([
            "runs",
            "--root",
            root,
            "--format",
            "jsonl",
            "--where",
            where,
          ]);
          equal(r.code, 0, r.stderr);
          return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) =>
            JSON.parse(l).run_id
          );
        };
        // 2^53 + 1 written with a fraction or an exponent is still 2^53 + 1.
        deepEqual(await ids(`config.seed = ${BIG}.0`), ["p1"]);
        deepEqual(await ids("config.seed = 9.007199254740993e15"), ["p1"]);
        deepEqual(await ids("config.seed = 9007199254740993E0"), ["p1"]);
        deepEqual(await ids(`config.seed != ${BIG}.000`), ["p2"]);
        // Between the two seeds: 2^53 + 0.5.
        deepEqual(await ids(`config.seed > ${BIG_EVEN}.5`), ["p1"]);
        deepEqual(await ids(`config.seed >= ${BIG_EVEN}.5`), ["p1"]);
        deepEqual(await ids(`config.seed < ${BIG_EVEN}.5`), ["p2"]);
        deepEqual(await ids(`config.seed <= ${BIG_EVEN}.5`), ["p2"]);
        deepEqual(await ids(`config.seed = ${BIG_EVEN}.5`), []);
        deepEqual(await ids(`config.seed != ${BIG_EVEN}.5`), ["p2", "p1"]);
        // Negative: -(2^53 + 1) < -(2^53 + 0.5) < -2^53.
        deepEqual(await ids(`config.neg < -${BIG_EVEN}.5`), ["p2", "p1"]);
        deepEqual(await ids(`config.neg > -${BIG_EVEN}.5`), []);
        deepEqual(await ids(`config.neg = -${BIG}.0`), ["p2", "p1"]);
        deepEqual(await ids("config.seed = 9.007199254740992e15"), ["p2"]);
        deepEqual(await ids("config.seed < 1e16"), ["p2", "p1"]);
      },
    );

    await t.step(
      "show, --json and text, keeps the digits (an interop audit: it rounded)",
      async () => {
        const json = await runLedger(["show", "--root", root, "p1", "--json"]);
        equal(json.code, 0, json.stderr);
        ok(json.stdout.includes(`"seed": ${BIG}`), json.stdout);
        ok(json.stdout.includes(`"neg": -${BIG}`), json.stdout);
        ok(json.stdout.includes(`"count": ${BIG}`), json.stdout);
        ok(json.stdout.includes(`"n": ${BIG}`), json.stdout);
        const text = await runLedger(["show", "--root", root, "p1"]);
        equal(text.code, 0, text.stderr);
        ok(text.stdout.includes(`{"seed":${BIG}}`), text.stdout);
      },
    );
    await t.step("compare table shows the digits", async () => {
      const r = await runLedger(["compare", "--root", root, "p1", "p2", "--wide"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, new RegExp(`^seed\\s+${BIG}\\s+${BIG_EVEN}$`, "m"));
    });

    await t.step("runs: csv, table, json and jsonl carry the same value", async () => {
      const csv = await runs("--format", "csv");
      equal(csv.code, 0, csv.stderr);
      match(csv.stdout, new RegExp(`^p1,.*,${BIG},-${BIG}$`, "m"));
      match(csv.stdout, new RegExp(`^p2,.*,${BIG_EVEN},-${BIG}$`, "m"));
      const table = await runs("--wide");
      equal(table.code, 0, table.stderr);
      match(table.stdout, new RegExp(`^p1 .*\\s${BIG}\\s+-${BIG}$`, "m"));
      match(table.stdout, new RegExp(`^p2 .*\\s${BIG_EVEN}\\s+-${BIG}$`, "m"));
      for (const format of ["json", "jsonl"]) {
        const r = await runs("--format", format);
        equal(r.code, 0, r.stderr);
        match(r.stdout, new RegExp(`"run_id":"p1".*"config.seed":${BIG},"config.neg":-${BIG}`));
        // The summary holds NaN: the row is rewritten, the integer kept.
        match(r.stdout, new RegExp(`"summary":\\{"count":${BIG},"nan":null\\}`));
      }
    });

    await t.step("trials: csv, table and jsonl", async () => {
      const trials = (...args: string[]) => runLedger(["trials", "--root", root, ...args]);
      const table = await trials("--wide");
      equal(table.code, 0, table.stderr);
      match(table.stdout, new RegExp(`^p1\\s+t1\\s.*${BIG}`, "m"));
      ok(!table.stdout.includes(BIG_EVEN), table.stdout);
      for (const format of ["csv", "jsonl"]) {
        const r = await trials("--format", format, "--columns", "params.seed");
        equal(r.code, 0, r.stderr);
        ok(r.stdout.includes(BIG), r.stdout);
        ok(!r.stdout.includes(BIG_EVEN), r.stdout);
      }
    });
  });
});

Deno.test("parseJsonLenient keeps integers past 2^53 exact", async (t) => {
  await t.step("as raw JSON, written back digit for digit", () => {
    const v = parseJsonLenient(
      `{"a": ${BIG}, "b": -${BIG}, "c": [${BIG}, 1.5], "d": 12, "e": 1e400, "f": "${BIG}"}`,
    ) as Record<string, unknown>;
    ok(isExactInteger(v.a) && isExactInteger(v.b));
    equal(v.d, 12);
    equal(v.f, BIG);
    equal(
      JSON.stringify(v),
      `{"a":${BIG},"b":-${BIG},"c":[${BIG},1.5],"d":12,"e":null,"f":"${BIG}"}`,
    );
  });

  await t.step("NaN and trailing commas as before", () => {
    const v = parseJsonLenient(`{"a": ${BIG}, "b": NaN, "c": [1,],}`);
    equal(JSON.stringify(v), `{"a":${BIG},"b":null,"c":[1]}`);
    const top = parseJsonLenient(BIG);
    ok(isExactInteger(top));
    equal(top.rawJSON, BIG);
  });

  await t.step("cells and CSV fields show the digits", () => {
    const v = parseJsonLenient(BIG);
    equal(cellText(v), BIG);
    equal(csvField(v), BIG);
    equal(cellText(parseJsonLenient(`[${BIG}]`)), `[${BIG}]`);
  });
});

/**
 * An oracle audit: numbers past 2^53 that a Python writer writes as floats
 * (`json.dumps` gives `9007199254740992.0` and `1e+16`) sorted after every
 * integer of the same double, in both directions, and `--where` compared
 * them with the literal rounded to a double.
 */
Deno.test("integers past 2^53 written as floats sort and filter exactly", async () => {
  await withTempDir(async (root) => {
    const t0 = Date.UTC(2026, 0, 20, 12);
    const seeds: [string, string][] = [
      ["int-a", "9007199254740993"],
      ["float-b", "9007199254740992.0"],
      ["float-c", "1e+16"],
      ["int-d", "10000000000000000"],
    ];
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      join(dir, "part-000001.jsonl"),
      seeds.map(([id, seed], i) =>
        `{"event_type": "run.created", "event_id": "e${i}", "run_id": "${id}", ` +
        `"run_type": "x", "config": {"seed": ${seed}}, "data_fingerprint": "f", ` +
        `"timestamp_ms": ${t0}, "schema_version": 1}\n`
      ).join(""),
    );
    await rebuildIndex(root, {});
    const ids = async (...args: string[]) => {
      const r = await runLedger(["runs", "--root", root, "--format", "jsonl", ...args]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).run_id);
    };
    const asc = await ids("--sort", "config.seed:asc");
    const desc = await ids("--sort", "config.seed:desc");
    deepEqual(asc.slice(0, 2), ["float-b", "int-a"]);
    deepEqual(new Set(asc.slice(2)), new Set(["float-c", "int-d"]));
    deepEqual(desc.slice(2), ["int-a", "float-b"]);
    // 1e16 and 10000000000000000 are equal: they tie, and the default order breaks the tie
    // the same way in both directions.
    deepEqual(desc.slice(0, 2), asc.slice(2));
    deepEqual(await ids("--where", "config.seed < 9007199254740993"), ["float-b"]);
    deepEqual(await ids("--where", "config.seed = 10000000000000001"), []);
    deepEqual(
      new Set(await ids("--where", "config.seed = 10000000000000000")),
      new Set(["float-c", "int-d"]),
    );
    deepEqual(
      new Set(await ids("--where", "config.seed > 9007199254740992")),
      new Set(["int-a", "float-c", "int-d"]),
    );
  });
});

/**
 * An oracle audit: a float past 2^53 (Python writes 2.0**63 as
 * `9.223372036854776e+18`) came out of `show --json` and `compare --json` as
 * the integer `9223372036854776000`, which exact readers take for a value
 * 192 past the logged one, and `compare` called it different from the same
 * value written as an integer.
 */
Deno.test("a float past 2^53: show and compare keep it a float, equal to its integer", async () => {
  await withTempDir(async (root) => {
    const t0 = Date.UTC(2026, 0, 20, 12);
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(
      join(dir, "part-000001.jsonl"),
      [["fl", "9.223372036854776e+18"], ["in", "9223372036854775808"]].map(([id, x], i) =>
        `{"event_type": "run.created", "event_id": "f${i}", "run_id": "${id}", "run_type": "x", ` +
        `"config": {"x": ${x}, "y": ${i}}, "data_fingerprint": "f", "timestamp_ms": ${t0 + i}, ` +
        `"schema_version": 1}\n`
      ).join(""),
    );
    await rebuildIndex(root, {});
    const show = await runLedger(["show", "fl", "--root", root, "--json"]);
    equal(show.code, 0, show.stderr);
    match(show.stdout, /"x": 9223372036854776000\.0[,\n]/);
    const compare = await runLedger(["compare", "fl", "in", "--root", root, "--json"]);
    equal(compare.code, 0, compare.stderr);
    deepEqual(Object.keys(JSON.parse(compare.stdout).config), ["y"], "x is the same value");
  });
});

/**
 * Integers past HUGEINT's 2^127 - 1 sort exactly too (a probe: 10^40 + 1 and
 * 10^40 + 2, 2^127 - 1 and 2^127 tied, in the default order, for `runs` and
 * `trials`), as QUICKSTART promises for any number of digits.
 */
Deno.test("--sort orders integers past 2^127 exactly, in runs and trials", async () => {
  await withTempDir(async (root) => {
    const t0 = Date.UTC(2026, 0, 20, 12);
    // Created in an order --sort must not keep: the older run holds the larger value of each pair.
    const values = [
      ["hi", "10000000000000000000000000000000000000002"], // 10^40 + 2
      ["lo", "10000000000000000000000000000000000000001"],
      ["big", "170141183460469231731687303715884105728"], // 2^127
      ["small", "170141183460469231731687303715884105727"],
    ];
    const lines = values.flatMap(([id, v], i) => [
      `{"event_type": "run.created", "event_id": "c-${id}", "timestamp_ms": ${t0 + i}, ` +
      `"run_id": "${id}", "run_type": "policy", "data_fingerprint": "f", "config": {"seed": ${v}}}`,
      `{"event_type": "trial.recorded", "event_id": "t-${id}", "timestamp_ms": ${t0 + i}, ` +
      `"run_id": "${id}", "trial_id": "t", "params": {}, "metrics": {"m": ${v}}}`,
    ]);
    const dir = join(root, "events", "day=2026-01-20");
    await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(join(dir, "part-000001.jsonl"), lines.join("\n") + "\n");
    await rebuildIndex(root, {});
    const order = async (command: string, sort: string) => {
      const r = await runLedger([command, "--root", root, "--format", "jsonl", "--sort", sort]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").map((l) => JSON.parse(l).run_id);
    };
    const ascending = ["small", "big", "lo", "hi"];
    deepEqual(await order("runs", "config.seed:asc"), ascending);
    deepEqual(await order("runs", "config.seed:desc"), ascending.toReversed());
    deepEqual(await order("trials", "metrics.m:asc"), ascending);
    deepEqual(await order("trials", "metrics.m:desc"), ascending.toReversed());
  });
});
