/**
 * Findings of a black-box recheck of the query surface (SPEC 11), each
 * driven through the real CLI on a log written by hand.
 */
import { deepStrictEqual as deepEqual, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { ev, T0, writePart } from "../indexer/_fixtures.ts";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { runLedger, withTempDir } from "../_helpers.ts";

async function buildIndex(root: string, runs: [string, unknown][]): Promise<void> {
  const lines = runs.flatMap(([runId, config], i) => [
    ev("run.created", runId, T0 + i * 60_000, { run_type: "p", config, data_fingerprint: "f" }),
  ]);
  await writePart(root, join("day=2026-01-20", "recheck.jsonl"), lines);
  await rebuildIndex(root, {});
}

/**
 * An index of runs created at the given times (`[runId, ms]`), and a lister
 * of the run ids `ledger runs ARGS` answers with, sorted.
 */
async function runsCreatedAt(
  root: string,
  runs: [string, number][],
): Promise<(args: string[]) => Promise<string[]>> {
  const lines = runs.map(([runId, t]) =>
    ev("run.created", runId, t, { run_type: "p", config: {}, data_fingerprint: "f" })
  );
  await writePart(root, join("day=2026-01-20", "recheck.jsonl"), lines);
  await rebuildIndex(root, {});
  return async (args) => {
    const r = await runLedger(["runs", "--root", root, "--format", "csv", ...args]);
    equal(r.code, 0, r.stderr);
    return r.stdout.trim().split("\n").slice(1).map((l) => l.split(",")[0]).sort();
  };
}

Deno.test("compare: the same value with its keys in another order does not differ", async () => {
  await withTempDir(async (root) => {
    // A ladder's levels written by two tools: the same objects, keys in another order.
    await buildIndex(root, [
      ["k1", { levels: [{ multiple: 2, fraction: 0.5 }], fee: 10 }],
      ["k2", { levels: [{ fraction: 0.5, multiple: 2 }], fee: 20 }],
    ]);
    const r = await runLedger(["compare", "--root", root, "k1", "k2", "--json"]);
    equal(r.code, 0, r.stderr);
    deepEqual(JSON.parse(r.stdout).config, { fee: { k1: 10, k2: 20 } });
  });
});

Deno.test("--where on created_at: a date is its whole UTC day, as --since/--until read it", async (t) => {
  await withTempDir(async (root) => {
    const HOUR_MS = 3_600_000;
    const ids = await runsCreatedAt(root, [
      ["d-prev", T0 - 1], // 2026-01-19T23:59:59.999Z
      ["d-midnight", T0], // 2026-01-20T00:00:00.000Z
      ["d-noon", T0 + 12 * HOUR_MS],
      ["d-last", T0 + 24 * HOUR_MS - 1], // 2026-01-20T23:59:59.999Z
      ["d-next", T0 + 24 * HOUR_MS], // 2026-01-21T00:00:00.000Z
    ]);
    const day = ["d-last", "d-midnight", "d-noon"];
    for (
      const [expr, want] of [
        ["created_at = '2026-01-20'", day],
        ["created_at != '2026-01-20'", ["d-next", "d-prev"]],
        ["created_at <= '2026-01-20'", ["d-last", "d-midnight", "d-noon", "d-prev"]],
        ["created_at < '2026-01-20'", ["d-prev"]],
        ["created_at >= '2026-01-20'", ["d-last", "d-midnight", "d-next", "d-noon"]],
        ["created_at > '2026-01-20'", ["d-next"]],
        // An instant is that instant.
        ["created_at = '2026-01-20T00:00'", ["d-midnight"]],
        ["created_at <= '2026-01-20T00:00:00Z'", ["d-midnight", "d-prev"]],
      ] as const
    ) {
      await t.step(expr, async () => {
        deepEqual(await ids(["--where", expr]), [...want].sort());
      });
    }
    await t.step("the same days as --since and --until", async () => {
      deepEqual(
        await ids(["--where", "created_at >= '2026-01-20' and created_at <= '2026-01-20'"]),
        await ids(["--since", "2026-01-20", "--until", "2026-01-20"]),
      );
    });
  });
});

Deno.test("--where: a number past a double's range is a usage error, not no match", async (t) => {
  await withTempDir(async (root) => {
    await buildIndex(root, [["n1", { x: 1 }]]);
    for (
      const [expr, column] of [
        ["config.x < 1e999", 12],
        ["config.x > -1e400", 12],
        // Below the smallest double: it read as 0 and matched every zero (a query probe).
        ["config.x = 1e-400", 12],
        ["config.x != -0.00001e-320", 13],
      ] as const
    ) {
      await t.step(expr, async () => {
        const r = await runLedger(["runs", "--root", root, "--where", expr]);
        equal(r.code, 2, r.stdout);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        const token = expr.split(" ").at(-1)!;
        equal(r.stderr.includes(`"${token}" at column ${column}`), true, r.stderr);
      });
    }
    await t.step("zeros and the smallest doubles are numbers", async () => {
      for (const expr of ["config.x > 0e-400", "config.x > -0.0e5", "config.x > 5e-324"]) {
        const r = await runLedger(["runs", "--root", root, "--where", expr, "--format", "jsonl"]);
        equal(r.code, 0, `${expr}: ${r.stderr}`);
        equal(r.stdout.trim().split("\n").length, 1, expr);
      }
    });
  });
});

Deno.test("--where: a usage error names the whole bad token", async (t) => {
  await withTempDir(async (root) => {
    await buildIndex(root, [["n1", { x: 1 }]]);
    for (
      const [expr, token, column] of [
        ["config.x = 0x10", "0x10", 12],
        ["config.x = .5e", ".5e", 12],
        ["config.x = 12abc and status = 'x'", "12abc", 12],
        ["config.x. = 1", ".", 9],
      ] as const
    ) {
      await t.step(expr, async () => {
        const r = await runLedger(["runs", "--root", root, "--where", expr]);
        equal(r.code, 2, r.stdout);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        equal(r.stderr.includes(`"${token}" at column ${column}`), true, r.stderr);
      });
    }
  });
});

Deno.test("a number past a double's range (1e309) reads as null in every format", async (t) => {
  await withTempDir(async (root) => {
    // Python's json.dumps writes float("inf") as Infinity, but a log may also hold 1e309, which
    // every reader takes for infinity: SPEC 3, non-finite values read as null.
    const lines = [
      '{"event_type":"run.created","event_id":"o1","timestamp_ms":' + T0 +
      ',"run_id":"o1","schema_version":1,"run_type":"p","data_fingerprint":"f",' +
      '"config":{"h":1e309,"nest":{"h":-1e309,"s":"1e309"},"ok":1e300,"seed":12345678901234567890}}',
      '{"event_type":"run.completed","event_id":"o2","timestamp_ms":' + (T0 + 1) +
      ',"run_id":"o1","schema_version":1,"artifact_paths":{},"summary":{"x":1E+400,"win_rate":0.5}}',
      '{"event_type":"trial.recorded","event_id":"o3","timestamp_ms":' + (T0 + 2) +
      ',"run_id":"o1","schema_version":1,"trial_id":"t","params":{"h":1e309},"metrics":{"m":2}}',
    ];
    await Deno.mkdir(join(root, "events", "day=2026-01-20"), { recursive: true });
    await Deno.writeTextFile(
      join(root, "events", "day=2026-01-20", "overflow.jsonl"),
      lines.join("\n") + "\n",
    );
    await rebuildIndex(root, {});
    const ledger = async (args: string[]) => {
      const r = await runLedger([...args, "--root", root]);
      equal(r.code, 0, r.stderr);
      return r.stdout;
    };
    const columns = ["--columns", "config.h,config.nest,config.ok,config.seed"];
    for (const format of ["json", "jsonl"]) {
      await t.step(`runs --format ${format}`, async () => {
        const out = await ledger(["runs", ...columns, "--format", format]);
        equal(/1e309|1e\+?400/i.test(out.replace('"s":"1e309"', "")), false, out);
        const row = format === "json" ? JSON.parse(out)[0] : JSON.parse(out.trim());
        equal(row["config.h"], null);
        deepEqual(row["config.nest"], { h: null, s: "1e309" });
        equal(row["config.ok"], 1e300);
        equal(row.summary.x, null);
        equal(row.summary.win_rate, 0.5);
        equal(out.includes('"config.seed":12345678901234567890'), true, out); // exact
      });
      await t.step(`trials --format ${format}`, async () => {
        const out = await ledger(["trials", "--format", format]);
        const row = format === "json" ? JSON.parse(out)[0] : JSON.parse(out.trim());
        deepEqual(row.params, { h: null });
      });
    }
    await t.step("runs and trials csv", async () => {
      const runs = await ledger(["runs", ...columns, "--format", "csv"]);
      const [header, row] = runs.trim().split("\n");
      equal(row.split(",")[header.split(",").indexOf("config.h")], "", runs);
      equal(runs.includes("Infinity"), false, runs);
      const trials = await ledger(["trials", "--columns", "params.h", "--format", "csv"]);
      equal(trials.includes("Infinity"), false, trials);
      equal(trials.trim().split("\n")[1].endsWith(","), true, trials);
    });
    await t.step("tables", async () => {
      const runs = await ledger(["runs", "--columns", "config.h", "--wide"]);
      equal(runs.includes("Infinity"), false, runs);
      const trials = await ledger(["trials", "--columns", "params.h", "--wide"]);
      equal(trials.includes("Infinity"), false, trials);
    });
  });
});

Deno.test("--since, --until and --where: an instant finer than a millisecond is not rounded down", async (t) => {
  await withTempDir(async (root) => {
    const ids = await runsCreatedAt(root, [["m-123", T0 + 123], ["m-124", T0 + 124]]);
    const at = "2026-01-20T00:00:00.1234Z"; // between the two runs
    for (
      const [args, want] of [
        [["--since", at], ["m-124"]],
        [["--until", at], ["m-123"]],
        [["--where", `created_at >= '${at}'`], ["m-124"]],
        [["--where", `created_at > '${at}'`], ["m-124"]],
        [["--where", `created_at < '${at}'`], ["m-123"]],
        [["--where", `created_at <= '${at}'`], ["m-123"]],
        [["--where", `created_at = '${at}'`], []],
      ] as const
    ) {
      await t.step(args.join(" "), async () => {
        deepEqual(await ids([...args]), [...want]);
      });
    }
  });
});
