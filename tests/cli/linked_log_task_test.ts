/**
 * A log reached through symbolic links that lead out of the folders a
 * `deno task` grants: a day folder moved to another disk and linked back
 * (OPERATIONS.md 7), or `data/` itself a link to a bigger disk. Deno checks
 * an open file's `stat` against the permission of the path its links lead
 * to, so under `deno task emit` (read and write `data` only) a part read
 * through such a link was opened and read, and its `stat` refused (a probe):
 * an emit of an event of a run created on a linked day printed the event's
 * id, then exited 1 (a retry wrote it again); a `run.created` was refused;
 * `ledger tag` could not refresh the index. Readers now stat such a file by
 * its path; a writer, which must tell the part it locked from one renamed
 * over it, refuses to append through such a link, saying what to grant.
 * Each command here runs under its task's own flags.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CLI_PATH,
  DENO_RUN,
  logText,
  REPO_ROOT,
  runLedger,
  taskPermissionFlags,
  withTempDir,
} from "../_helpers.ts";
import { quote, sh } from "../_tmpfs.ts";

/** What `deno task emit` runs. */
const EMIT_BUNDLE = join(REPO_ROOT, "cli", "_emit_bundle", "ledger_emit.js");
/** 2026-01-20T09:00:00Z: a day of its own, older than today. */
const OLD_MS = Date.UTC(2026, 0, 20, 9);

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The argv of `deno task <task>` (its flags, paths under `dir`) running `script args`. */
async function taskArgv(task: string, dir: string, script: string, args: string[]) {
  return [
    Deno.execPath(),
    ...DENO_RUN,
    ...await taskPermissionFlags(task, dir),
    script,
    ...args,
  ];
}

async function run(argv: string[], cwd: string): Promise<Result> {
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    cwd,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

/** `ledger emit ARGS` as `deno task emit` runs it in `dir` (the bundle, `data` granted). */
async function taskEmit(dir: string, args: string[]): Promise<Result> {
  return await run(await taskArgv("emit", dir, EMIT_BUNDLE, args), dir);
}

/** `ledger ARGS` as `deno task ledger` runs it in `dir`. */
async function taskLedger(dir: string, args: string[]): Promise<Result> {
  return await run(await taskArgv("ledger", dir, CLI_PATH, args), dir);
}

const created = (runId: string, extra: string[] = []) => [
  ...["--event-type", "run.created", "--run-id", runId, "--run-type", "policy"],
  ...["--config", "{}", "--data-fingerprint", "fp", ...extra],
];

/** The lines of the log under `root` that hold `text` (days linked elsewhere left out). */
async function linesWith(root: string, text: string): Promise<number> {
  return (await logText(root)).split("\n").filter((line) => line.includes(text)).length;
}

Deno.test("deno task emit and ledger: a day folder linked from another disk", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "data", "ledger");
    const old = await runLedger([
      ...["emit", "--root", root],
      ...created("old-1", ["--timestamp-ms", String(OLD_MS)]),
    ]);
    assert.equal(old.code, 0, old.stderr);
    await Deno.mkdir(join(dir, "cold"));
    await Deno.rename(join(root, "events", "day=2026-01-20"), join(dir, "cold", "day=2026-01-20"));
    await Deno.symlink(join(dir, "cold", "day=2026-01-20"), join(root, "events", "day=2026-01-20"));
    const rootArg = ["--root", "data/ledger"];

    await t.step("an event of a run created on the linked day: written once, exit 0", async () => {
      const r = await taskEmit(dir, [
        ...rootArg,
        "--event-type",
        "run.started",
        "--run-id",
        "old-1",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, "", "the run's run.created was found through the link");
      assert.equal(await linesWith(root, r.stdout.trim()), 1);
    });

    await t.step("run.created of a run id the linked day holds: refused", async () => {
      const r = await taskEmit(dir, [...rootArg, ...created("old-1")]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /old-1/);
      assert.doesNotMatch(r.stderr, /Requires read access/);
    });

    await t.step("run.created of a new run id: written", async () => {
      const r = await taskEmit(dir, [...rootArg, ...created("new-1")]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await linesWith(root, r.stdout.trim()), 1);
    });

    // A review: the marker of a batch killed while it appended to a linked day's part (a
    // backfill under -A) made every emit under the task refuse, on any day.
    await t.step("an abandoned batch in the linked day's part stops no emit of today", async () => {
      const day = join(dir, "cold", "day=2026-01-20");
      const part = join(day, [...Deno.readDirSync(day)].find((e) => e.isFile)!.name);
      const size = (await Deno.stat(part)).size;
      await Deno.writeTextFile(part, '{"event_type":"run.started","run_id":"dead"}\n', {
        append: true,
      });
      const pending = join(root, "events", ".pending");
      await Deno.mkdir(pending, { recursive: true });
      const marker = join(pending, `2026-01-20__${part.slice(part.lastIndexOf("/") + 1)}.size`);
      await Deno.writeTextFile(marker, JSON.stringify({ size }));
      const r = await taskEmit(dir, [
        ...rootArg,
        "--event-type",
        "run.started",
        "--run-id",
        "new-1",
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await linesWith(root, r.stdout.trim()), 1);
      assert.ok(await Deno.stat(marker), "left for a writer that may stat the part");
      // One that may (-A) cuts the abandoned line off.
      const cleaner = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "new-1"],
      ]);
      assert.equal(cleaner.code, 0, cleaner.stderr);
      assert.equal((await Deno.stat(part)).size, size);
    });

    // A review: with the linked day's disk offline (the link dangling), an emit took the dead
    // batch's part for one removed by hand and dropped its marker: once the disk was back, the
    // batch's unacknowledged line was read as an event.
    await t.step("a dead batch's marker outlives its day's disk going offline", async () => {
      const day = join(dir, "cold", "day=2026-01-20");
      const part = join(day, [...Deno.readDirSync(day)].find((e) => e.isFile)!.name);
      const size = (await Deno.stat(part)).size;
      await Deno.writeTextFile(part, '{"event_type":"run.started","run_id":"ghost"}\n', {
        append: true,
      });
      const marker = join(
        root,
        "events",
        ".pending",
        `2026-01-20__${part.slice(part.lastIndexOf("/") + 1)}.size`,
      );
      await Deno.writeTextFile(marker, JSON.stringify({ size }));
      await Deno.rename(join(dir, "cold"), join(dir, "cold.offline"));
      const r = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "new-1"],
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(await Deno.stat(marker), "kept while the part cannot be reached");
      await Deno.rename(join(dir, "cold.offline"), join(dir, "cold"));
      const again = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "new-1"],
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await Deno.stat(part)).size, size, "the dead batch's line is cut");
      // A day that is a loop of links, with a dead batch's marker: no emit is stopped by it.
      await Deno.symlink("day=2026-01-21", join(root, "events", "day=2026-01-21"));
      const loopMarker = join(root, "events", ".pending", "2026-01-21__emit-000001.jsonl.size");
      await Deno.writeTextFile(loopMarker, JSON.stringify({ size: 10 }));
      const past = await runLedger([
        ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "new-1"],
      ]);
      assert.equal(past.code, 0, past.stderr);
      assert.ok(await Deno.stat(loopMarker), "kept: the day may be reachable again");
      await Deno.remove(join(root, "events", "day=2026-01-21"));
    });

    await t.step("ledger tag refreshes the index through the link", async () => {
      const built = await runLedger(["rebuild-index", "--root", root]);
      assert.equal(built.code, 0, built.stderr);
      await taskEmit(dir, [...rootArg, "--event-type", "run.started", "--run-id", "new-1"]);
      const r = await taskLedger(dir, ["tag", ...rootArg, "old-1", "desk=a"]);
      assert.equal(r.code, 0, r.stderr);
      const shown = await runLedger(["show", "old-1", "--json", "--root", root]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(JSON.parse(shown.stdout).tags.desk, "a");
      const started = await runLedger(["show", "new-1", "--json", "--root", root]);
      assert.equal(JSON.parse(started.stdout).run.status, "running", "the refresh read today too");
    });
  });
});

// With data/ itself a link out of the task's folders, Deno refuses the stat of every part the
// writer opens: nothing tells the part it locked from one renamed over its path meanwhile (a
// review: comparing sizes instead lost 2 of 5 emits to a same-size rewrite). Refused, naming
// what to grant; readers (ledger tag's refresh) read such a log.
Deno.test("deno task emit and ledger: data/ a link to another disk", async () => {
  await withTempDir(async (dir) => {
    const work = join(dir, "work");
    await Deno.mkdir(join(dir, "disk", "data"), { recursive: true });
    await Deno.mkdir(work);
    await Deno.symlink(join(dir, "disk", "data"), join(work, "data"));
    const rootArg = ["--root", "data/ledger"];
    const refused = await taskEmit(work, [...rootArg, ...created("d-1")]);
    assert.equal(refused.code, 1, refused.stderr);
    assert.equal(refused.stdout, "");
    assert.match(
      refused.stderr,
      /^ledger emit: Cannot write data\/ledger\/events\/day=[\d-]+\/emit-000001\.jsonl: it is reached through a symbolic link out of the folders this process may read, .*grant read of that folder/,
    );
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    const root = join(dir, "disk", "data", "ledger");
    assert.equal(await linesWith(root, '"d-1"'), 0, "nothing written");
    // Written with the link's target granted (-A here), then read under the ledger task.
    const written = await runLedger(["emit", "--root", root, ...created("d-1")]);
    assert.equal(written.code, 0, written.stderr);
    const built = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(built.code, 0, built.stderr);
    const tagged = await taskLedger(work, ["tag", ...rootArg, "d-1", "desk=b", "--no-index"]);
    assert.equal(tagged.code, 1, "tag appends too: refused the same way");
    assert.match(tagged.stderr, /reached through a symbolic link/);
    const listed = await taskLedger(work, ["runs", "--json", ...rootArg]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.deepEqual(JSON.parse(listed.stdout).map((r: { run_id: string }) => r.run_id), ["d-1"]);
  });
});

/** Why the unreadable-part case cannot run here, or undefined. */
async function whyNoUnreadablePart(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "not Linux";
  if (Deno.uid() !== 0) return undefined; // file modes hold for this user
  const capsh = await sh("capsh --help");
  return capsh.code === 0 ? undefined : "running as root without capsh to drop CAP_DAC_OVERRIDE";
}

const WHY_NOT = await whyNoUnreadablePart();
if (WHY_NOT !== undefined) console.log(`ignored: emit with an unreadable older part: ${WHY_NOT}`);

Deno.test({
  name: "emit: a run look-up that fails after the write is a warning, exit 0",
  ignore: WHY_NOT !== undefined,
  async fn() {
    await withTempDir(async (dir) => {
      const root = join(dir, "root");
      const old = await runLedger([
        ...["emit", "--root", root],
        ...created("old-1", ["--timestamp-ms", String(OLD_MS)]),
      ]);
      assert.equal(old.code, 0, old.stderr);
      const oldDay = join(root, "events", "day=2026-01-20");
      for await (const part of Deno.readDir(oldDay)) await Deno.chmod(join(oldDay, part.name), 0);
      const argv = [
        Deno.execPath(),
        ...[
          ...DENO_RUN,
          "-A",
          CLI_PATH,
        ],
        ...["emit", "--root", root, "--event-type", "run.started", "--run-id", "old-1"],
      ];
      const r = Deno.uid() === 0
        ? await sh(
          `capsh --drop=cap_dac_override,cap_dac_read_search -- -c ${
            quote(argv.map(quote).join(" "))
          }`,
        )
        : await run(argv, dir);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^[0-9a-f-]{36}\n$/);
      assert.match(
        r.stderr,
        /^ledger emit: warning: could not look for the runs' run\.created in the log: .*Permission denied/,
      );
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.equal(await linesWith(root, r.stdout.trim()), 1);
    });
  },
});
