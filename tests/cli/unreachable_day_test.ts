/**
 * A day folder of the log linked from another disk (OPERATIONS.md 7) whose
 * link leads to no folder now: the disk not mounted, a loop of links, a
 * file. A probe: every rebuild then read the log without the day, so the
 * index lost its runs (exit 0, a warning calling it "not a day folder"),
 * `verify` said "sound" with its events uncounted, and a loop of links
 * failed them with the OS's words. Readers that must see every day refuse,
 * naming the link and where it leads, and keep the index; `ledger emit`,
 * which a cold disk offline must not stop, writes and says what it could
 * not look through; the daemon keeps serving the index and says it once.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { exists } from "../../ledger/exists.ts";
import {
  CLI_PATH,
  delay,
  denoScriptArgs,
  eventually,
  logText,
  REPO_ROOT,
  runCreatedArgs,
  runLedger,
  withTempDir,
} from "../_helpers.ts";
import { startDaemon } from "./_daemon_log.ts";

/** 2026-01-20T09:00:00Z: a day of its own, older than today. */
const OLD_MS = Date.UTC(2026, 0, 20, 9);
const OLD_DAY = "day=2026-01-20";
const SAMPLE_CALLS = join(REPO_ROOT, "data", "sample", "calls.csv");
const SAMPLE_CANDLES = join(REPO_ROOT, "data", "sample", "candles_1m.parquet");

/** A root whose day 2026-01-20 (run `old-1`) lives in `<dir>/cold`, linked back; indexed. */
async function linkedRoot(dir: string): Promise<{ root: string; cold: string; link: string }> {
  const root = join(dir, "root");
  const created = await runLedger(runCreatedArgs(root, "old-1", ["--timestamp-ms", `${OLD_MS}`]));
  assert.equal(created.code, 0, created.stderr);
  const today = await runLedger(runCreatedArgs(root, "new-1"));
  assert.equal(today.code, 0, today.stderr);
  const cold = join(dir, "cold", OLD_DAY);
  await Deno.mkdir(join(dir, "cold"));
  const link = join(root, "events", OLD_DAY);
  await Deno.rename(link, cold);
  await Deno.symlink(cold, link);
  const built = await runLedger(["rebuild-index", "--root", root]);
  assert.equal(built.code, 0, built.stderr);
  return { root, cold, link };
}

async function runIds(root: string): Promise<string[]> {
  const r = await runLedger(["runs", "--root", root, "--all", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { run_id: string }[]).map((run) => run.run_id).sort();
}

Deno.test("a linked day whose link leads nowhere: rebuild and verify refuse, the index keeps its runs", async (t) => {
  await withTempDir(async (dir) => {
    const { root, cold, link } = await linkedRoot(dir);
    assert.deepEqual(await runIds(root), ["new-1", "old-1"]);
    const index = join(root, "index", "runs.duckdb");
    const unreachable = [
      {
        name: "its disk not mounted",
        why: "not there",
        make: () => Deno.rename(cold, `${cold}.offline`),
        undo: () => Deno.rename(`${cold}.offline`, cold),
      },
      {
        name: "a loop of links",
        why: "a loop of links",
        make: async () => {
          await Deno.remove(link);
          await Deno.symlink(link, link);
        },
        undo: async () => {
          await Deno.remove(link);
          await Deno.symlink(cold, link);
        },
      },
      {
        name: "a file",
        why: "not a folder",
        make: async () => {
          await Deno.remove(link);
          await Deno.writeTextFile(join(dir, "a-file"), "");
          await Deno.symlink(join(dir, "a-file"), link);
        },
        undo: async () => {
          await Deno.remove(link);
          await Deno.symlink(cold, link);
        },
      },
    ];
    for (const c of unreachable) {
      await t.step(c.name, async () => {
        await c.make();
        try {
          const said = new RegExp(
            `events/${OLD_DAY} is a link to .*, which leads to no folder now \\(${c.why}\\)`,
          );
          const before = await Deno.readFile(index);
          const rebuilds = c.why === "not there"
            ? [["rebuild-index"], ["rebuild-index", "--full"]]
            : [["rebuild-index"]];
          for (const args of rebuilds) {
            const r = await runLedger([...args, "--root", root]);
            assert.equal(r.code, 1, r.stderr);
            assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
            assert.match(r.stderr, /refused \(the index is unchanged\)/);
            assert.match(r.stderr, said);
          }
          assert.deepEqual(await Deno.readFile(index), before, "the index is not touched");
          assert.deepEqual(await runIds(root), ["new-1", "old-1"]);
          const verified = await runLedger(["verify", "--root", root]);
          assert.equal(verified.code, 1, verified.stdout + verified.stderr);
          assert.match(verified.stderr, said);
          assert.doesNotMatch(verified.stdout, /sound/);
        } finally {
          await c.undo();
        }
        const again = await runLedger(["rebuild-index", "--root", root]);
        assert.equal(again.code, 0, again.stderr);
        assert.deepEqual(await runIds(root), ["new-1", "old-1"]);
      });
    }

    // A review: a cron's `rebuild-index --since-date` (OPERATIONS 7) failed while an older day's
    // disk was offline, though the days before the window stay as indexed.
    await t.step("--since-date after the day: updated, the day kept as indexed", async () => {
      await Deno.rename(cold, `${cold}.offline`);
      try {
        const emitted = await runLedger(runCreatedArgs(root, "new-3"));
        assert.equal(emitted.code, 0, emitted.stderr);
        const today = new Date().toISOString().slice(0, 10);
        const r = await runLedger(["rebuild-index", "--root", root, "--since-date", today]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(await runIds(root), ["new-1", "new-3", "old-1"]);
        // From before the day, or in full: the day is needed, and refused.
        for (const args of [["--since-date", "2026-01-20"], ["--since-date", today, "--full"]]) {
          const refused = await runLedger(["rebuild-index", "--root", root, ...args]);
          assert.equal(refused.code, 1, refused.stderr);
          assert.match(refused.stderr, /events\/day=2026-01-20 is a link to/);
        }
        // No index yet: the rebuild is full, and the day is needed.
        await Deno.rename(index, `${index}.aside`);
        try {
          const fresh = await runLedger(["rebuild-index", "--root", root, "--since-date", today]);
          assert.equal(fresh.code, 1, fresh.stderr);
          assert.match(fresh.stderr, /events\/day=2026-01-20 is a link to/);
        } finally {
          await Deno.rename(`${index}.aside`, index);
        }
      } finally {
        await Deno.rename(`${cold}.offline`, cold);
      }
    });

    await t.step("emit writes and says which day it could not look through", async () => {
      await Deno.rename(cold, `${cold}.offline`);
      try {
        const created = await runLedger(runCreatedArgs(root, "new-2"));
        assert.equal(created.code, 0, created.stderr);
        assert.match(created.stdout, /^[0-9a-f-]{36}\n$/);
        assert.match(
          created.stderr,
          new RegExp(
            `could not look for an earlier run.created of run new-2: events/${OLD_DAY} is a link`,
          ),
        );
        // A run found today: its look-up needed no other day, and says nothing.
        const started = await runLedger([
          ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "new-2"],
        ]);
        assert.equal(started.code, 0, started.stderr);
        assert.equal(started.stderr, "");
        // A run the reachable days do not create: its run.created may be on the cold disk.
        const old = await runLedger([
          ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "old-1"],
        ]);
        assert.equal(old.code, 0, old.stderr);
        assert.match(
          old.stderr,
          /could not look for the run.created of run old-1: events\/day=2026-01-20/,
        );
        // Not "has no run.created in the log; emit it first": it may be on the day unread.
        assert.doesNotMatch(old.stderr, /has no run.created in the log/);
        assert.equal(old.stderr.trim().split("\n").length, 1, old.stderr);
        const given = await runLedger([
          ...["emit", "--root", root, "--event"],
          '{"event_type":"run.started","run_id":"new-2","event_id":"given-1"}',
        ]);
        assert.equal(given.code, 0, given.stderr);
        assert.equal(given.stdout, "given-1\n");
        assert.match(
          given.stderr,
          /could not look for the given event ids: events\/day=2026-01-20/,
        );
        // A review: annotations and a backtest of a chosen run id were refused. Written, said.
        const tagged = await runLedger(["tag", "--root", root, "new-1", "desk=a"]);
        assert.equal(tagged.code, 0, tagged.stderr);
        assert.match(tagged.stderr, /^ledger tag: warning: index not refreshed \(events\/day=/);
        assert.equal(tagged.stderr.trim().split("\n").length, 1, tagged.stderr);
        // A chosen run id may be a run of the day unread: run anyway, the two merged (a review).
        // Refused, nothing written; a new id needs no look-up.
        const backtest = await runLedger([
          ...["backtest", "path-only", "--root", root, "--run-id", "bt-1", "--no-index"],
          ...["--calls", SAMPLE_CALLS, "--candles", SAMPLE_CANDLES],
        ]);
        assert.equal(backtest.code, 1, backtest.stderr);
        assert.match(
          backtest.stderr,
          /Cannot tell whether run id bt-1 is taken: events\/day=2026-01-20 is a link .*; or leave --run-id out/,
        );
        assert.equal(await exists(join(root, "artifacts", "runs", "bt-1")), false);
        assert.doesNotMatch(await logText(root), /"bt-1"/);
        // A run not indexed yet: its refresh is refused for the day; said, not "rebuild it".
        const unindexed = await runLedger(["tag", "--root", root, "new-2", "desk=b"]);
        assert.equal(unindexed.code, 1, unindexed.stderr);
        assert.match(
          unindexed.stderr,
          /Run "new-2" is not in the index, and it cannot be refreshed: events\/day=2026-01-20 is a link .*; nothing was written/,
        );
      } finally {
        await Deno.rename(`${cold}.offline`, cold);
      }
      const rebuilt = await runLedger(["rebuild-index", "--root", root]);
      assert.equal(rebuilt.code, 0, rebuilt.stderr);
      const shown = await runLedger(["show", "new-1", "--json", "--root", root]);
      assert.equal(JSON.parse(shown.stdout).tags.desk, "a", "the tag is in the log");
    });
  });
});

Deno.test("the daemon keeps the index while a linked day leads nowhere, says so once, and goes on", async () => {
  await withTempDir(async (dir) => {
    const { root, cold } = await linkedRoot(dir);
    await Deno.rename(cold, `${cold}.offline`);
    const daemon = startDaemon(
      Deno.execPath(),
      denoScriptArgs(CLI_PATH, ["daemon", "--root", root, "--interval", "0.2", "--log-json"]),
    );
    const entries = daemon.entries;
    try {
      await eventually(() => entries().some((e) => e.level === "error"), "the refusal logged");
      await delay(1500); // several intervals
      const errors = entries().filter((e) => e.level === "error");
      assert.equal(errors.length, 1, daemon.text());
      assert.match(errors[0].msg, /events\/day=2026-01-20 is a link to .*leads to no folder now/);
      assert.deepEqual(await runIds(root), ["new-1", "old-1"]);
      await Deno.rename(`${cold}.offline`, cold);
      const emitted = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "old-1"],
      ]);
      assert.equal(emitted.code, 0, emitted.stderr);
      await eventually(async () => {
        const r = await runLedger(["show", "old-1", "--json", "--root", root]);
        return r.code === 0 && JSON.parse(r.stdout).run.status === "running";
      }, "the daemon indexes again once the day is back");
    } finally {
      const stopped = await daemon.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
    }
  });
});
