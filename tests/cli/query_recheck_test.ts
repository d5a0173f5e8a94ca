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
    const lines = [
      ["d-prev", T0 - 1], // 2026-01-19T23:59:59.999Z
      ["d-midnight", T0], // 2026-01-20T00:00:00.000Z
      ["d-noon", T0 + 12 * HOUR_MS],
      ["d-last", T0 + 24 * HOUR_MS - 1], // 2026-01-20T23:59:59.999Z
      ["d-next", T0 + 24 * HOUR_MS], // 2026-01-21T00:00:00.000Z
    ].map(([runId, t]) =>
      ev("run.created", runId as string, t as number, {
        run_type: "p",
        config: {},
        data_fingerprint: "f",
      })
    );
    await writePart(root, join("day=2026-01-20", "recheck.jsonl"), lines);
    await rebuildIndex(root, {});
    const ids = async (args: string[]) => {
      const r = await runLedger(["runs", "--root", root, "--format", "csv", ...args]);
      equal(r.code, 0, r.stderr);
      return r.stdout.trim().split("\n").slice(1).map((l) => l.split(",")[0]).sort();
    };
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
    for (const [expr, column] of [["config.x < 1e999", 12], ["config.x > -1e400", 12]] as const) {
      await t.step(expr, async () => {
        const r = await runLedger(["runs", "--root", root, "--where", expr]);
        equal(r.code, 2, r.stdout);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        const token = expr.split(" ").at(-1)!;
        equal(r.stderr.includes(`"${token}" at column ${column}`), true, r.stderr);
      });
    }
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
