/**
 * `ledger compare` names paths as `ledger export` names columns
 * (`indexer/query/flat_path.ts`): a key with a `.` is not the path through
 * two keys, and a run that has an object where another has a leaf shows
 * that object, never null.
 */
import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { indexPath } from "../../ledger/paths.ts";
import { compareRuns, flatten, withReader } from "../../indexer/query/mod.ts";
import { runLedger, withTempDir } from "../_helpers.ts";
import { formatComparison } from "../../cli/compare.ts";

async function buildIndex(root: string, runs: [string, unknown, unknown][]): Promise<void> {
  const lines = runs.flatMap(([runId, config, summary], i) => [
    ev("run.created", runId, T0 + i * 60_000, { run_type: "p", config, data_fingerprint: "f" }),
    ev("run.started", runId, T0 + i * 60_000 + 1),
    ev("run.completed", runId, T0 + i * 60_000 + 2, { summary, artifact_paths: {} }),
  ]);
  await writePart(root, join("day=2026-01-20", "part-compare.jsonl"), lines);
  await rebuildIndex(root, {});
}

Deno.test("compare: dotted keys, leaves against objects", async (t) => {
  await withTempDir(async (root) => {
    await buildIndex(root, [
      ["c1", { "a.b": 1, e: {}, same: { x: 1 } }, { m: { "p.q": 1 }, z: 5 }],
      ["c2", { a: { b: 1 }, e: { k: 1 }, same: { x: 1 } }, { m: { p: { q: 1 } } }],
    ]);

    await t.step("compare --json: both structures listed, no object called null", async () => {
      const r = await runLedger(["compare", "--root", root, "c1", "c2", "--json"]);
      equal(r.code, 0, r.stderr);
      const c = JSON.parse(r.stdout);
      deepEqual(Object.keys(c), [
        "runs",
        "same_data",
        "config",
        "summary",
        "phases",
        "callers",
        "git",
      ]);
      deepEqual(c.config, {
        "a\\.b": { c1: 1, c2: null }, // the key "a.b": only c1 has it
        e: { c1: {}, c2: { k: 1 } }, // c2's e is an object, not null
        "a.b": { c1: null, c2: 1 }, // the path a -> b: only c2 has it
        "e.k": { c1: null, c2: 1 },
      });
      deepEqual(c.summary, {
        "m.p\\.q": { c1: 1, c2: null },
        z: { c1: 5, c2: null },
        "m.p.q": { c1: null, c2: 1 },
      });
    });

    await t.step("compare table: the same paths", async () => {
      const r = await runLedger(["compare", "--root", root, "c1", "c2", "--wide"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /\[config \(4 differ\)\]/);
      match(r.stdout, /^a\\\.b\s+1\s+-$/m);
      match(r.stdout, /^e\s+\{\}\s+\{"k":1\}$/m);
      match(r.stdout, /^a\.b\s+-\s+1$/m);
    });
  });
});

Deno.test("compare: a leaf against an object, absent, and by_caller keys with dots", async () => {
  await withTempDir(async (root) => {
    await buildIndex(root, [
      ["d1", { e: 5, only: {} }, { by_caller: { "al.ice": { win_rate: 0.5 } } }],
      ["d2", { e: { k: { j: 1 } } }, { by_caller: { "al.ice": { win_rate: 0.7 } } }],
      ["d3", {}, null],
    ]);
    const c = await withReader(
      indexPath(root),
      (conn) => compareRuns(conn, ["d1", "d2", "d3"], { root }),
    );
    deepEqual(c.config, {
      e: { d1: 5, d2: { k: { j: 1 } }, d3: null },
      only: { d1: {}, d2: null, d3: null },
      "e.k.j": { d1: null, d2: 1, d3: null },
    });
    // A caller's name is a key: a dot in it does not split it.
    deepEqual(c.callers, {
      "al.ice": { d1: { win_rate: 0.5 }, d2: { win_rate: 0.7 }, d3: null },
    });
    deepEqual(c.summary, {});
  });
});

Deno.test("flatten: flat names, leaves, own keys only", () => {
  deepEqual(flatten({ a: { b: 1 }, "a.b": 2, c: [1], e: {}, "x\\": { y: 3 } }), {
    "a.b": 1,
    "a\\.b": 2,
    c: [1],
    e: {},
    "x\\\\.y": 3,
  });
  const proto = flatten(JSON.parse('{"__proto__": {"polluted": 1}, "toString": 2}'));
  deepEqual(Object.keys(proto), ["__proto__.polluted", "toString"]);
  equal(({} as Record<string, unknown>).polluted, undefined);
});

Deno.test("compare: a sweep's callers are its best trial's", async () => {
  await withTempDir(async (root) => {
    const alice = (count: number) => ({ alice: { count, win_rate: 0.5 } });
    await buildIndex(root, [
      ["s1", {}, { best_trial: { trial_id: "t003", by_caller: alice(3) } }],
      ["p1", {}, { by_caller: alice(4) }],
    ]);
    const c = await withReader(
      indexPath(root),
      (conn) => compareRuns(conn, ["s1", "p1"], { root }),
    );
    deepEqual(c.callers, {
      alice: { s1: { count: 3, win_rate: 0.5 }, p1: { count: 4, win_rate: 0.5 } },
    });
  });
});

// A probe: a run without results for a caller had no key under it, where config, summary and
// phases give every run, null when it has none.
Deno.test("compare: every caller names every run, null where a run has no results for it", async () => {
  await withTempDir(async (root) => {
    await buildIndex(root, [
      ["p1", {}, { by_caller: { alice: { count: 4 } } }],
      ["p2", {}, { by_caller: { bob: { count: 2 } } }],
      ["p3", {}, {}],
    ]);
    const c = await withReader(
      indexPath(root),
      (conn) => compareRuns(conn, ["p3", "p1", "p2"], { root }),
    );
    deepEqual(c.callers, {
      alice: { p3: null, p1: { count: 4 }, p2: null },
      bob: { p3: null, p1: null, p2: { count: 2 } },
    });
    deepEqual(Object.keys(c.callers.alice), ["p3", "p1", "p2"]);
  });
});

// A review: only config rows told apart values the table prints alike; summary strings, phase
// names and callers with a newline against the two characters `\n` still printed `a\nb` twice.
Deno.test("compare table: summary values, phase names and callers that print alike are quoted", () => {
  const table = formatComparison({
    runs: ["a1", "b2"],
    same_data: true,
    config: {},
    summary: {
      note: { a1: "a\nb", b2: "a\\nb" },
      mode: { a1: "x", b2: "y" },
      side: { a1: "x", b2: "x " }, // a trailing space does not show in a padded cell
    },
    // A phase named with quotes and all, `"p\nq"`, beside the two that print alike.
    phases: {
      "p\nq": { a1: 10, b2: null },
      "p\\nq": { a1: null, b2: 20 },
      '"p\\nq"': { a1: 30, b2: null },
    },
    callers: { "c\nd": { a1: { n: 1 }, b2: {} }, "c\\nd": { a1: {}, b2: { n: 2 } } },
    git: { a1: { commit: null, dirty: null }, b2: { commit: null, dirty: null } },
  }, { width: 120 }).split("\n");
  const row = (label: string) => table.find((l) => l.startsWith(label))?.trim().split(/\s{2,}/);
  deepEqual(row("note"), ["note", '"a\\nb"', '"a\\\\nb"']);
  deepEqual(row("mode"), ["mode", "x", "y"]); // nothing alike: as it is
  deepEqual(row('"p\\nq"'), ['"p\\nq"', "10 ms", "-"]);
  deepEqual(row('"p\\\\nq"'), ['"p\\\\nq"', "-", "20 ms"]);
  deepEqual(row('"\\"p\\\\nq\\""'), ['"\\"p\\\\nq\\""', "30 ms", "-"]);
  deepEqual(row("side"), ["side", '"x"', '"x "']);
  deepEqual(row('"c\\nd" n'), ['"c\\nd" n', "1", "-"]);
});

// A probe: the table's summary of a sweep repeated its best trial's per-caller results, about 8
// rows a caller, above the same numbers in [callers].
Deno.test("compare table: a sweep's best trial's callers are shown once, under [callers]", () => {
  const comparison = {
    runs: ["p1", "s1"],
    same_data: true,
    config: {},
    summary: {
      win_rate: { p1: 0.5, s1: null },
      "best_trial.metrics.win_rate": { p1: null, s1: 0.75 },
      "best_trial.by_caller.alice.count": { p1: null, s1: 3 },
      "best_trial.by_caller.alice.win_rate": { p1: null, s1: 0.75 },
    },
    phases: {},
    callers: { alice: { p1: { count: 4, win_rate: 0.5 }, s1: { count: 3, win_rate: 0.75 } } },
    git: { p1: { commit: null, dirty: null }, s1: { commit: null, dirty: null } },
  };
  const lines = formatComparison(comparison, { width: 100 }).split("\n");
  const row = (label: string) => lines.find((l) => l.startsWith(label))?.trim().split(/\s{2,}/);
  equal(lines.filter((l) => l.startsWith("best_trial.by_caller.")).length, 0, lines.join("\n"));
  deepEqual(row("best_trial.by_caller"), ["best_trial.by_caller", "-", "[callers]"]);
  deepEqual(row("best_trial.metrics.win_rate"), ["best_trial.metrics.win_rate", "-", "0.75"]);
  deepEqual(row("alice count"), ["alice count", "4", "3 (-1)"]);
  // Without a [callers] section (no per-caller results read), the summary keeps them.
  const alone = formatComparison({ ...comparison, callers: {} }, { width: 100 });
  ok(alone.includes("best_trial.by_caller.alice.count"), alone);
});

// A probe: a summary's `by_caller` that is not an object (`5`), or a caller's results that are not
// an object, were in neither the summary nor the callers of `compare --json`, nor in the report's
// compare view: left out without a word.
Deno.test("compare: a by_caller that is not an object is a summary row, a caller's value its own", async () => {
  await withTempDir(async (root) => {
    await buildIndex(root, [
      ["j1", {}, { by_caller: 5, n: 1 }],
      ["j2", {}, { by_caller: { amy: 7, bob: { count: 2 } }, n: 1 }],
      ["j3", {}, { best_trial: { trial_id: "t1", by_caller: [1] } }],
    ]);
    const c = await withReader(
      indexPath(root),
      (conn) => compareRuns(conn, ["j1", "j2", "j3"], { root }),
    );
    deepEqual(c.summary, {
      by_caller: { j1: 5, j2: { amy: 7, bob: { count: 2 } }, j3: null },
      n: { j1: 1, j2: 1, j3: null },
      "best_trial.trial_id": { j1: null, j2: null, j3: "t1" },
      "best_trial.by_caller": { j1: null, j2: null, j3: [1] },
    });
    deepEqual(c.callers, {
      amy: { j1: null, j2: { value: 7 }, j3: null },
      bob: { j1: null, j2: { count: 2 }, j3: null },
    });

    const out = join(root, "report.html");
    const r = await runLedger(["report", "j1", "j2", "j3", "--root", root, "--out", out]);
    equal(r.code, 0, r.stderr);
    const html = await Deno.readTextFile(out);
    const compare = html.slice(html.indexOf('id="compare"'));
    const summary = compare.slice(
      compare.indexOf("<h2>Summary</h2>"),
      compare.indexOf('id="run-0"'),
    );
    // The rows of the Summary table: a `by_caller` of 5 and a best trial's `[1]` are there, the
    // callers' object (shown in the per-caller table) is not split into rows.
    const rows = [...summary.matchAll(/<tr><t[dh][^>]*>([^<]*)</g)].map((m) => m[1]);
    ok(rows.includes("by_caller"), rows.join(" | "));
    ok(rows.includes("best_trial.by_caller"), rows.join(" | "));
    ok(!rows.some((row) => row.startsWith("by_caller.")), rows.join(" | "));
  });
});

// A probe: a delta was rounded to 4 significant digits in its integer part (+54495 printed
// "+54500", -21633562.5 "-21630000", a phase 123456 ms longer "+123500 ms"), reading as exact.
Deno.test("compare table: deltas keep their integer part, as the values do", () => {
  const table = formatComparison({
    runs: ["a", "b"],
    same_data: true,
    config: {},
    summary: {
      max_drawdown_bps: { a: -269930.3, b: -215435.3 },
      avg_hold_ms: { a: 52777125, b: 31143562.5 },
      m: { a: 1.5, b: 123456789.5 },
      win_rate: { a: 0.1, b: 0.3 },
      calls: { a: 320, b: 220 },
    },
    phases: { load: { a: 1000, b: 124456 } },
    callers: {},
    git: { a: { commit: null, dirty: null }, b: { commit: null, dirty: null } },
  }, { width: 160 }).split("\n");
  const row = (label: string) =>
    table.map((l) => l.trim().split(/\s{2,}/)).find((cells) => cells[0] === label);
  deepEqual(row("max_drawdown_bps"), ["max_drawdown_bps", "-269930.3", "-215435.3 (+54495)"]);
  deepEqual(row("avg_hold_ms"), ["avg_hold_ms", "52777125", "31143562.5 (-21633562.5)"]);
  deepEqual(row("m"), ["m", "1.5", "123456789.5 (+123456788)"]);
  deepEqual(row("win_rate"), ["win_rate", "0.1", "0.3 (+0.2)"]); // not +0.19999999999999998
  deepEqual(row("calls"), ["calls", "320", "220 (-100)"]);
  deepEqual(row("load"), ["load", "1.0 s", "2 m 04 s (+123456 ms)"]);
});

// A probe: 1e308 against -1e308 printed "-1e+308 (-Infinity)": the difference of two doubles
// past a double's range. Both are integers there, their difference a bigint.
Deno.test("compare table: a delta past a double's range is a number, not Infinity", () => {
  const table = formatComparison({
    runs: ["a", "b", "c"],
    same_data: true,
    config: {},
    summary: {
      x: { a: 1e308, b: -1e308, c: 1.7976931348623157e308 },
      v: { a: 1.2e308, b: -1.2e308, c: -1.2e308 },
    },
    phases: {},
    callers: {},
    git: {
      a: { commit: null, dirty: null },
      b: { commit: null, dirty: null },
      c: { commit: null, dirty: null },
    },
  }, { width: 160 }).split("\n");
  const row = (label: string) =>
    table.map((l) => l.trim().split(/\s{2,}/)).find((cells) => cells[0] === label);
  deepEqual(row("x"), [
    "x",
    "1e+308",
    "-1e+308 (-2e+308)",
    "1.7976931348623157e+308 (+7.976931348623157e+307)",
  ]);
  // Rounded to 15 digits: not the doubles' error (-2.3999999999999998e+308, a review).
  deepEqual(row("v"), ["v", "1.2e+308", "-1.2e+308 (-2.4e+308)", "-1.2e+308 (-2.4e+308)"]);
});

// helper-296: a row told apart (a value and a string that print alike) lost every delta and the
// sign of -0; the number 2 and the string "2" were not told apart, their cells differing by the
// delta; an integer past 2^53 against a fraction had no delta.
Deno.test("compare table: values are told apart without their deltas, which stay", async () => {
  const { parseJsonText } = await import("../../ledger/json_text.ts");
  const big = parseJsonText("9007199254740993", { exactIntegers: true });
  const table = formatComparison({
    runs: ["a", "b", "c"],
    same_data: true,
    config: {},
    summary: {
      win_rate: { a: 0.5, b: -0, c: "0.5" },
      m: { a: 1, b: 2, c: "2" },
      big: { a: big, b: 0.5, c: null },
    },
    phases: {},
    callers: {},
    git: {
      a: { commit: null, dirty: null },
      b: { commit: null, dirty: null },
      c: { commit: null, dirty: null },
    },
  }, { width: 160 }).split("\n");
  const row = (label: string) =>
    table.map((l) => l.trim().split(/\s{2,}/)).find((cells) => cells[0] === label);
  deepEqual(row("win_rate"), ["win_rate", "0.5", "-0 (-0.5)", '"0.5"']);
  deepEqual(row("m"), ["m", "1", "2 (+1)", '"2"']);
  deepEqual(row("big"), ["big", "9007199254740993", "0.5 (-9.00719925474099e+15)", "-"]);
});
