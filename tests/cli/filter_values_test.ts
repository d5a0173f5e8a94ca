/**
 * `--where` values as a quant writes them: `= true` matches a stored true
 * only (not 1 or "yes", which a cast to BOOLEAN took), and `= 1` never
 * matches true: no loose equality either way. `!=` keeps every value that
 * is there and not equal, whatever its type.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { runLedger } from "../_helpers.ts";
import { ev, writePart } from "../indexer/_fixtures.ts";

Deno.test("--where: booleans match stored booleans only", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-filter-values-" });
  try {
    const configs: [string, string][] = [
      ["b-true", '{"dry":true}'],
      ["b-one", '{"dry":1}'],
      ["b-yes", '{"dry":"yes"}'],
      ["b-false", '{"dry":false}'],
    ];
    for (const [id, config] of configs) {
      const r = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.created", "--run-id", id],
        ...["--run-type", "policy", "--config", config, "--data-fingerprint", "f"],
      ]);
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const ids = async (where: string) => {
      const r = await runLedger(["runs", "--root", root, "--where", where, "--format", "jsonl"]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).run_id)
        .sort();
    };
    deepEqual(await ids("config.dry = true"), ["b-true"]);
    deepEqual(await ids("config.dry = false"), ["b-false"]);
    deepEqual(await ids("config.dry = 1"), ["b-one"]);
    deepEqual(await ids("config.dry != true"), ["b-false", "b-one", "b-yes"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A probe: `!= NUMBER` compared as numbers only, so a value of another type (true, "none", an
// object, an array) was dropped, where `!= true` and `!= 'abc'` keep the other types.
Deno.test("--where: != a number keeps the values of other types, not the missing ones", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-filter-ne-" });
  try {
    const configs: [string, string][] = [
      ["n-ten", '{"x":10}'],
      ["n-ten-text", '{"x":"10"}'],
      ["n-other", '{"x":-5.5}'],
      ["n-true", '{"x":true}'],
      ["n-none", '{"x":"none"}'],
      ["n-object", '{"x":{"y":1}}'],
      ["n-array", '{"x":[10]}'],
      ["n-null", '{"x":null}'],
      ["n-missing", '{"y":1}'],
      ["n-big", '{"x":9007199254740993}'],
    ];
    for (const [id, config] of configs) {
      const r = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.created", "--run-id", id],
        ...["--run-type", "policy", "--config", config, "--data-fingerprint", "f"],
      ]);
      equal(r.code, 0, r.stderr);
    }
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const ids = async (where: string) => {
      const r = await runLedger(["runs", "--root", root, "--where", where, "--format", "jsonl"]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).run_id)
        .sort();
    };
    const others = ["n-array", "n-none", "n-object", "n-true"];
    deepEqual(await ids("config.x != 10"), ["n-big", "n-other", ...others].sort());
    deepEqual(await ids("config.x = 10"), ["n-ten", "n-ten-text"]);
    // The exact integer path too (past 2^53).
    deepEqual(
      await ids("config.x != 9007199254740993"),
      ["n-other", "n-ten", "n-ten-text", ...others].sort(),
    );
    // = and != still split the present values between them.
    deepEqual(
      await ids("config.x != true"),
      (await ids("config.x != 10")).concat(
        ["n-ten", "n-ten-text"],
      ).filter((id) => id !== "n-true").sort(),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// A probe: digits past the millisecond were added to the instant as a fraction, which vanished at
// today's epoch (1.7e12 ms, a double's spacing 2.4e-4), so `--since ...00:05:00.000000001Z` and
// `created_at >= '...'` or `= '...'` took a run created at 00:05:00.000.
Deno.test("--since and created_at: an instant past the millisecond is never a whole one", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-filter-subms-" });
  try {
    const at = Date.UTC(2026, 0, 21, 0, 5);
    await writePart(root, "day=2026-01-21/part-000001.jsonl", [
      ev("run.created", "at-five", at, { run_type: "p", config: {}, data_fingerprint: "f" }),
      ev("run.created", "after", at + 1, { run_type: "p", config: {}, data_fingerprint: "f" }),
    ]);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    const ids = async (args: string[]) => {
      const r = await runLedger(["runs", "--root", root, ...args, "--format", "jsonl"]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").filter((l) => l !== "").map((l) => JSON.parse(l).run_id)
        .sort();
    };
    const instant = "2026-01-21T00:05:00.000000001Z";
    deepEqual(await ids(["--since", instant]), ["after"]);
    deepEqual(await ids(["--until", instant]), ["at-five"]);
    deepEqual(await ids(["--where", `created_at >= '${instant}'`]), ["after"]);
    deepEqual(await ids(["--where", `created_at = '${instant}'`]), []);
    deepEqual(await ids(["--where", `created_at < '${instant}'`]), ["at-five"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
