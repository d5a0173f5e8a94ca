/**
 * The library refuses options and inputs that cannot be meant, as the
 * command line does its flags: one typed error naming the option, before
 * anything is written (an audit of mod.ts found each of these accepted: a
 * misspelt durability meant relaxed, a limit of -1 listed every run but one,
 * a bad interval left a failed run behind, a mistyped root became an empty
 * index).
 */
import { deepStrictEqual as deepEqual, rejects, strictEqual as equal, throws } from "node:assert";
import { join } from "node:path";
import { openWriter, type WriterOptions } from "../ledger/writer.ts";
import { EmitterDurabilityError, getEventEmitter } from "../ledger/emitter.ts";
import { validateEvent, type ValidationMode } from "../ledger/events.ts";
import { listParts } from "../ledger/parts.ts";
import { readPartFile } from "../ledger/reader.ts";
import { verifyLog } from "../ledger/verify.ts";
import { eventsDir, indexPath } from "../ledger/paths.ts";
import { RebuildError, rebuildIndex } from "../indexer/rebuild.ts";
import { runDaemon } from "../indexer/daemon.ts";
import { InvalidMemoryLimitError } from "../indexer/memory_limit.ts";
import { listRuns } from "../indexer/queries.ts";
import { queryRuns as queryDualRuns } from "../legacy/dual.ts";
import { expandGrid } from "../backtest/grid.ts";
import { runPathOnly } from "../backtest/path_only.ts";
import { InputError } from "../backtest/errors.ts";
import type { Interval } from "../backtest/data.ts";

/** What a directory holds, by name (empty when it does not exist). */
async function entries(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
}

Deno.test("library options: refused at once, naming the option, nothing written", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger_options_" });
  try {
    await t.step(
      "writer: a misspelt durability, bad group commit or id, before events/",
      async () => {
        const bad: Record<string, unknown>[] = [
          { durability: "durabel" },
          { groupCommitMs: Number.NaN },
          { groupCommitMs: 30 * 86_400_000 }, // past a timer's range: it would fire at once
          { groupCommitEvents: 0 },
          { writerId: "a/b" },
          { partBytesMax: 0 },
        ];
        for (const options of bad) {
          const name = Object.keys(options)[0];
          await rejects(
            openWriter(root, options as WriterOptions),
            (err: Error) =>
              (err instanceof RangeError || err instanceof TypeError) &&
              (err.message.includes(name) || /Writer id/.test(err.message)),
            JSON.stringify(options),
          );
        }
        deepEqual(await entries(root), []); // no events/, no _schema.json
        const writer = await openWriter(root);
        const one = { event_type: "run.started", run_id: "r1" };
        await rejects(writer.appendBatch(one as never), /appendBatch takes an array/);
        await writer.close();
        deepEqual(await entries(eventsDir(root)), ["_schema.json"]); // nothing appended
      },
    );

    await t.step("emitter: bad options at once; one emitter per folder however spelled", () => {
      throws(() => getEventEmitter({ root, durability: "Durable" as never }), /durability must be/);
      throws(() => getEventEmitter({ root: "" }), /root must not be empty/);
      const folder = join(root, "emitter-root");
      getEventEmitter({ root: folder });
      throws(
        () => getEventEmitter({ root: `${folder}/`, durability: "relaxed" }),
        EmitterDurabilityError,
      );
    });

    await t.step("reads: a mode, a day or an offset that would read wrongly", async () => {
      const line = { event_type: "run.started", event_id: "e1", timestamp_ms: 1, run_id: "../x" };
      throws(() => validateEvent(line, { mode: "wrte" as ValidationMode }), /mode must be/);
      await rejects(listParts(root, { fromDay: "2026-1-23" }), /fromDay must be a UTC day/);
      const part = join(root, "part.jsonl");
      await Deno.writeTextFile(part, '{"a":1}\n{"b":2}\n');
      const read = (startOffset: number) => Array.fromAsync(readPartFile(part, { startOffset }));
      await rejects(read(-5), /startOffset must be an integer >= 0/);
      await rejects(read(3), /startOffset 3 of .* is not the start of a line/);
      equal((await read(8)).length, 1); // the start of line 2
      await rejects(verifyLog(root, { nowMs: Number.NaN }), /nowMs must be a number/);
    });

    await t.step("rebuild and daemon: a bad option or root, before any index or lock", async () => {
      const refusals: [Record<string, unknown>, RegExp][] = [
        [{ source: "Local" }, /source must be "local"/],
        [{ dbPath: "" }, /dbPath must not be empty/],
        [{ memoryLimit: "96MB" }, /at least 128MB/],
      ];
      for (const [options, message] of refusals) {
        await rejects(rebuildIndex(root, options), message, JSON.stringify(options));
      }
      await rejects(rebuildIndex(join(root, "ledgr")), RebuildError); // a mistyped root
      await rejects(runDaemon(root, { memoryLimit: "96MB" }), InvalidMemoryLimitError);
      await rejects(runDaemon(root, { intervalMs: 2 ** 31 }), /intervalMs must be > 0 and <=/);
      await rejects(runDaemon(join(root, "ledgr")), RebuildError);
      deepEqual(await entries(join(root, "index")), []); // no index, no lock file
      deepEqual(await entries(join(root, "ledgr")), []);
    });

    await t.step("queries: a limit or status that would answer wrongly in silence", async () => {
      const dbPath = indexPath(root); // not built: the options are refused before it is opened
      for (const limit of [-1, Number.NaN, 1.5, 0]) {
        await rejects(listRuns(dbPath, { limit }), /limit must be an integer >= 1/, `${limit}`);
        await rejects(queryDualRuns({ limit }, { root }), /limit must be an integer >= 1/);
      }
      await rejects(listRuns(dbPath, { status: "done" as never }), /status must be one of/);
      await rejects(queryDualRuns({}, { root, nowMs: Number.NaN }), /nowMs must be a number/);
    });

    await t.step("backtests: a window or interval refused before the run exists", async () => {
      const grid = { type: "fixed_stop", stopPct: [0.1, 0.2, 0.3], takeProfitPct: 1 };
      for (const trialsMax of [Number.NaN, Number.POSITIVE_INFINITY]) {
        throws(() => expandGrid(grid, { trialsMax }), /trialsMax must be an integer >= 1/);
      }
      const bad: [Record<string, unknown>, RegExp][] = [
        [{ interval: "2m" as Interval }, /interval must be one of 1m, 5m, 15m, 1h/],
        [{ fromMs: "2030-01-01" }, /fromMs must be a time in ms/],
        [{ fromMs: 2000, toMs: 1000 }, /fromMs \(2000\) must be before toMs \(1000\)/],
      ];
      const runsRoot = join(root, "runs");
      for (const [options, message] of bad) {
        await rejects(
          runPathOnly({ root: runsRoot, ...options }),
          (err: Error) => err instanceof InputError && message.test(err.message),
          JSON.stringify(options),
        );
      }
      deepEqual(await entries(runsRoot), []); // no event, no run directory
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("library options: sample data and the win-rate interval refuse counts of 0", async () => {
  const { generateSampleData } = await import("../backtest/sample_data.ts");
  const { winRateInterval } = await import("../backtest/metrics.ts");
  throws(() => generateSampleData({ mints: 0 }), /mints must be an integer >= 1, got 0/);
  throws(() => generateSampleData({ spanDays: Number.NaN }), /spanDays must be a number > 0/);
  throws(() => winRateInterval(3, 6, { resamples: 0 }), /resamples must be an integer >= 1/);
  equal(generateSampleData({ calls: 3, mints: 2 }).calls.length, 3);
});
