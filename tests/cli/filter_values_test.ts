/**
 * `--where` values as a quant writes them: `= true` matches a stored true
 * only (not 1 or "yes", which a cast to BOOLEAN took), and `= 1` never
 * matches true: no loose equality either way. `!=` keeps every value that
 * is there and not equal, whatever its type.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";
import { ev, writePart } from "../indexer/_fixtures.ts";
import { emitCreatedRuns, listedRunIds } from "./_query_fixture.ts";

/** Run `body` with a new root, removed after. */
async function withRoot(body: (root: string) => Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ledger-filter-values-" });
  try {
    await body(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

/** The runs `--where EXPR` lists. */
function where(root: string, expr: string): Promise<string[]> {
  return listedRunIds(root, ["--where", expr]);
}

Deno.test("--where: booleans match stored booleans only", async () => {
  await withRoot(async (root) => {
    await emitCreatedRuns(root, [
      { id: "b-true", config: '{"dry":true}' },
      { id: "b-one", config: '{"dry":1}' },
      { id: "b-yes", config: '{"dry":"yes"}' },
      { id: "b-false", config: '{"dry":false}' },
    ]);
    deepEqual(await where(root, "config.dry = true"), ["b-true"]);
    deepEqual(await where(root, "config.dry = false"), ["b-false"]);
    deepEqual(await where(root, "config.dry = 1"), ["b-one"]);
    deepEqual(await where(root, "config.dry != true"), ["b-false", "b-one", "b-yes"]);
  });
});

// A probe: `!= NUMBER` compared as numbers only, so a value of another type (true, "none", an
// object, an array) was dropped, where `!= true` and `!= 'abc'` keep the other types.
Deno.test("--where: != a number keeps the values of other types, not the missing ones", async () => {
  await withRoot(async (root) => {
    await emitCreatedRuns(root, [
      { id: "n-ten", config: '{"x":10}' },
      { id: "n-ten-text", config: '{"x":"10"}' },
      { id: "n-other", config: '{"x":-5.5}' },
      { id: "n-true", config: '{"x":true}' },
      { id: "n-none", config: '{"x":"none"}' },
      { id: "n-object", config: '{"x":{"y":1}}' },
      { id: "n-array", config: '{"x":[10]}' },
      { id: "n-null", config: '{"x":null}' },
      { id: "n-missing", config: '{"y":1}' },
      { id: "n-big", config: '{"x":9007199254740993}' },
    ]);
    const others = ["n-array", "n-none", "n-object", "n-true"];
    deepEqual(await where(root, "config.x != 10"), ["n-big", "n-other", ...others].sort());
    deepEqual(await where(root, "config.x = 10"), ["n-ten", "n-ten-text"]);
    // The exact integer path too (past 2^53).
    deepEqual(
      await where(root, "config.x != 9007199254740993"),
      ["n-other", "n-ten", "n-ten-text", ...others].sort(),
    );
    // != true keeps the same present values, but the numbers 10 and not true.
    deepEqual(
      await where(root, "config.x != true"),
      (await where(root, "config.x != 10")).concat(["n-ten", "n-ten-text"])
        .filter((id) => id !== "n-true").sort(),
    );
  });
});

// A probe: digits past the millisecond were added to the instant as a fraction, which vanished at
// today's epoch (1.7e12 ms, a double's spacing 2.4e-4), so `--since ...00:05:00.000000001Z` and
// `created_at >= '...'` or `= '...'` took a run created at 00:05:00.000.
Deno.test("--since and created_at: an instant past the millisecond is never a whole one", async () => {
  await withRoot(async (root) => {
    const at = Date.UTC(2026, 0, 21, 0, 5);
    await writePart(root, "day=2026-01-21/part-000001.jsonl", [
      ev("run.created", "at-five", at, { run_type: "p", config: {}, data_fingerprint: "f" }),
      ev("run.created", "after", at + 1, { run_type: "p", config: {}, data_fingerprint: "f" }),
    ]);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const instant = "2026-01-21T00:05:00.000000001Z";
    deepEqual(await listedRunIds(root, ["--since", instant]), ["after"]);
    deepEqual(await listedRunIds(root, ["--until", instant]), ["at-five"]);
    // The same instant on both sides is a window no whole ms is in: no run, not "swapped bounds"
    // (a review: refused as "--since X is after --until X").
    deepEqual(await listedRunIds(root, ["--since", instant, "--until", instant]), []);
    deepEqual(await where(root, `created_at >= '${instant}'`), ["after"]);
    deepEqual(await where(root, `created_at = '${instant}'`), []);
    deepEqual(await where(root, `created_at < '${instant}'`), ["at-five"]);
  });
});

// A probe: `config.z = 10` matched the strings "0010", " 10 " and "1e1" (a cast to DOUBLE takes
// them), and --sort tied them at 10, where `export` keeps them text. Text counts as a number only
// when written as JSON writes one ("10", "1e1"), in --where, --sort and export alike.
Deno.test("--where and --sort: only text written as a JSON number is a number", async () => {
  await withRoot(async (root) => {
    await emitCreatedRuns(root, [
      { id: "z-num", config: '{"z":10}' },
      { id: "z-text", config: '{"z":"10"}' },
      { id: "z-exp", config: '{"z":"1e1"}' },
      { id: "z-padded", config: '{"z":"0010"}' },
      { id: "z-spaced", config: '{"z":" 10 "}' },
      { id: "z-plus", config: '{"z":"+10"}' },
      { id: "z-nine", config: '{"z":9}' },
    ]);
    deepEqual(await where(root, "config.z = 10"), ["z-exp", "z-num", "z-text"]);
    deepEqual(await where(root, "config.z > 9"), ["z-exp", "z-num", "z-text"]);
    deepEqual(await where(root, "config.z = '0010'"), ["z-padded"]);
    // The exact integer path (a literal past 2^53) takes no padded text either.
    deepEqual(await where(root, "config.z < 9007199254740993"), [
      "z-exp",
      "z-nine",
      "z-num",
      "z-text",
    ]);
    // Sorted: the numbers by value (9, then the three tens), then the text.
    const listed = await runLedger([
      "runs",
      "--root",
      root,
      "--sort",
      "config.z",
      "--format",
      "jsonl",
    ]);
    equal(listed.code, 0, listed.stderr);
    const sorted = listed.stdout.trim().split("\n").map((l) => JSON.parse(l).run_id);
    equal(sorted[0], "z-nine");
    deepEqual(new Set(sorted.slice(1, 4)), new Set(["z-exp", "z-num", "z-text"]));
    deepEqual(new Set(sorted.slice(4)), new Set(["z-padded", "z-plus", "z-spaced"]));
    // A tag's value is text: the same rule.
    for (const [run, value] of [["z-num", "10"], ["z-padded", "0010"]]) {
      const tagged = await runLedger(["tag", run, `n=${value}`, "--root", root]);
      equal(tagged.code, 0, tagged.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    deepEqual(await where(root, "tags.n = 10"), ["z-num"]);
  });
});

// A probe: `summary.mean > +6` was refused ("Unexpected character "+""), though the number
// flags take a leading +.
Deno.test("--where: a number may carry a leading +", async () => {
  await withRoot(async (root) => {
    await emitCreatedRuns(root, [
      { id: "p-five", config: '{"m":5}' },
      { id: "p-seven", config: '{"m":7}' },
    ]);
    deepEqual(await where(root, "config.m > +6"), ["p-seven"]);
    deepEqual(await where(root, "config.m = +5.0e+0"), ["p-five"]);
    deepEqual(await where(root, "config.m < +9007199254740993.0"), ["p-five", "p-seven"]);
  });
});
