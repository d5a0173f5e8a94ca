/**
 * A missing log never empties an index that holds events: the events
 * directory moved away or renamed is a refusal that keeps the index
 * (incremental, `--full` and the daemon), while retention removing some or
 * all days (the directory stays), and a missing log with no index, go on.
 *
 * @module
 */
import { ok, rejects, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { eventually, withTempDir } from "../_helpers.ts";
import { fullRun, T0 } from "./_fixtures.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { EmptyLogError, RebuildError, rebuildIndex } from "../../indexer/rebuild.ts";
import { type DaemonLogEntry, runDaemon } from "../../indexer/daemon.ts";
import { indexPath } from "../../ledger/paths.ts";

const DAY_MS = 86_400_000;

async function writeDay(root: string, dayMs: number, runId: string): Promise<void> {
  const day = new Date(dayMs).toISOString().slice(0, 10);
  const dir = join(root, "events", `day=${day}`);
  await Deno.mkdir(dir, { recursive: true });
  const lines = fullRun(runId, dayMs).map((e) => JSON.stringify(e) + "\n").join("");
  await Deno.writeTextFile(join(dir, "part-a.jsonl"), lines);
}

async function eventCount(root: string): Promise<number> {
  const instance = await DuckDBInstance.create(indexPath(root), { access_mode: "READ_ONLY" });
  try {
    const conn = await instance.connect();
    const reader = await conn.runAndReadAll("SELECT count(*)::INTEGER AS n FROM events");
    conn.disconnectSync();
    return Number(reader.getRowObjectsJS()[0].n);
  } finally {
    instance.closeSync();
  }
}

async function refusal(promise: Promise<unknown>): Promise<EmptyLogError> {
  let caught: unknown;
  await rejects(promise, (err) => {
    caught = err;
    return err instanceof RebuildError;
  });
  const cause = (caught as RebuildError).cause;
  ok(cause instanceof EmptyLogError, `cause: ${cause}`);
  return cause;
}

Deno.test("empty log: a moved or emptied events directory does not empty the index", async (t) => {
  await withTempDir(async (root) => {
    await writeDay(root, T0, "r1");
    await writeDay(root, T0 + DAY_MS, "r2");
    await rebuildIndex(root, {});
    const held = await eventCount(root);
    equal(held, 20);

    await t.step("moved away: refused, incremental and --full, index kept", async () => {
      await Deno.rename(join(root, "events"), join(root, "events.moved"));
      for (const full of [false, true]) {
        const err = await refusal(rebuildIndex(root, { full }));
        equal(err.indexedEvents, 20);
        equal(err.indexedFiles, 2);
        equal(
          err.message,
          `The log ${join(root, "events")} does not exist, but the index holds 20 events from 2 ` +
            "part files: not publishing an empty index (a moved or unmounted log?); restore the " +
            "log, or delete the index to index an empty log",
        );
        equal(await eventCount(root), held);
      }
    });

    await Deno.rename(join(root, "events.moved"), join(root, "events"));

    await t.step("with a --since-date window, days before it stay: not refused", async () => {
      await Deno.rename(join(root, "events"), join(root, "events.moved"));
      const report = await rebuildIndex(root, { sinceDate: "2026-01-21" });
      equal(report.mode, "incremental");
      equal(await eventCount(root), 10, "the day before the window kept, the one in it gone");
      await refusal(rebuildIndex(root, { full: true, sinceDate: "2026-01-21" }));
      await Deno.rename(join(root, "events.moved"), join(root, "events"));
      await rebuildIndex(root, {});
      equal(await eventCount(root), held);
    });

    await t.step("retention removing one day of two: rebuilt without it", async () => {
      const day = new Date(T0).toISOString().slice(0, 10);
      await Deno.remove(join(root, "events", `day=${day}`), { recursive: true });
      const report = await rebuildIndex(root, {});
      equal(report.events, 10);
      equal(await eventCount(root), 10);
    });

    await t.step("every day removed (the directory stays): the index follows", async () => {
      for await (const day of Deno.readDir(join(root, "events"))) {
        await Deno.remove(join(root, "events", day.name), { recursive: true });
      }
      const report = await rebuildIndex(root, {});
      equal(report.events, 0);
      equal(await eventCount(root), 0);
    });

    await t.step("no events directory and no index: an empty index, as asked", async () => {
      await Deno.remove(join(root, "events"), { recursive: true });
      await Deno.remove(indexPath(root));
      const report = await rebuildIndex(root, {});
      equal(report.events, 0);
      equal(await eventCount(root), 0);
    });
  });
});

/**
 * A one-run log indexed, its `events/` moved to `events.moved`, and a daemon
 * started on the root (every 20 ms) whose log entries are kept.
 */
async function daemonAfterLogMoved(root: string) {
  await writeDay(root, T0, "r1");
  await rebuildIndex(root, {});
  await Deno.rename(join(root, "events"), join(root, "events.moved"));
  const entries: DaemonLogEntry[] = [];
  const stop = new AbortController();
  const daemon = runDaemon(root, {
    intervalMs: 20,
    signal: stop.signal,
    log: (entry) => entries.push(entry),
  });
  return { entries, stop, daemon };
}

Deno.test("empty log: the daemon says so once and rebuilds when the log is back", async () => {
  await withTempDir(async (root) => {
    const { entries, stop, daemon } = await daemonAfterLogMoved(root);
    // Several passes with the log gone: one error, then "no change", the index as it was.
    await eventually(() => entries.some((e) => e.level === "error"), "the refusal", 20_000);
    const at = entries.length;
    await eventually(
      () => entries.slice(at).filter((e) => e.msg === "no change in the log").length >= 3,
      "three passes after it",
      20_000,
    );
    const errors = entries.filter((e) => e.level === "error");
    equal(errors.length, 1, JSON.stringify(errors));
    ok(errors[0].msg.includes("does not exist, but the index holds 10 events"), errors[0].msg);
    equal(await eventCount(root), 10);
    // The log restored with one more day: the next pass rebuilds.
    await Deno.rename(join(root, "events.moved"), join(root, "events"));
    await writeDay(root, T0 + DAY_MS, "r2");
    await eventually(() => entries.some((e) => e.level === "info"), "the rebuild", 20_000);
    stop.abort();
    const summary = await daemon;
    equal(summary.failures, 1);
    equal(await eventCount(root), 20);
  });
});

// A probe: after the refusal, `events/` made again with no part file looked like no change (no
// part file before, none after), and the daemon kept serving the old runs while
// `rebuild-index` gave the empty index the log asks for.
Deno.test("empty log: the daemon follows an events directory made again empty", async () => {
  await withTempDir(async (root) => {
    const { entries, stop, daemon } = await daemonAfterLogMoved(root);
    try {
      await eventually(() => entries.some((e) => e.level === "error"), "the refusal", 20_000);
      equal(await eventCount(root), 10);
      await Deno.mkdir(join(root, "events"));
      await eventually(() => entries.some((e) => e.level === "info"), "the rebuild", 20_000);
    } finally {
      stop.abort();
      await daemon;
    }
    equal(await eventCount(root), 0, "the index follows the emptied log, as rebuild-index does");
  });
});
