/**
 * `--out` of `report` and `export` never overwrites what the ledger keeps:
 * a part file of the log, the index, its folder or the artifacts, also
 * through a symlinked folder. Each is a usage error (exit 2) of one line,
 * and the log and the index keep their bytes.
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { runLedger } from "../_helpers.ts";

/** A root holding one created run, indexed. */
async function indexOneRun(root: string): Promise<void> {
  const emit = await runLedger([
    ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "g1"],
    ...["--run-type", "policy", "--config", "{}", "--data-fingerprint", "fp"],
  ]);
  equal(emit.code, 0, emit.stderr);
  equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
}

async function bytesOf(path: string): Promise<string> {
  return new TextDecoder().decode(await Deno.readFile(path));
}

Deno.test("report and export refuse an --out inside the log, the index or the artifacts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-out-guard-" });
  const root = join(dir, "root");
  try {
    const emit = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.created",
      "--run-id",
      "g1",
      "--run-type",
      "policy",
      "--config",
      "{}",
      "--data-fingerprint",
      "fp",
    ]);
    equal(emit.code, 0, emit.stderr);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    // The day folder, not _schema.json beside it (readDir's order is the file system's).
    const day = [...Deno.readDirSync(join(root, "events"))].find((e) => e.name.startsWith("day="))!
      .name;
    const dayDir = join(root, "events", day);
    const part = join(dayDir, [...Deno.readDirSync(dayDir)].find((e) => e.isFile)!.name);
    const db = join(root, "index", "runs.duckdb");
    const logBefore = await bytesOf(part);
    const dbBefore = await Deno.readFile(db);
    await Deno.symlink(join(root, "events"), join(dir, "link"));
    const outs = [part, db, join(root, "index", "new.csv"), join(root, "artifacts", "x.html")];
    outs.push(join(dir, "link", day, "x.csv"));
    for (const out of outs) {
      for (
        const args of [
          ["report", "--root", root, "--out", out],
          ["export", "runs", "--root", root, "--format", "csv", "--out", out],
        ]
      ) {
        const r = await runLedger(args);
        equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        match(r.stderr, /--out .* is (inside .* \(the |the index file)/);
      }
    }
    equal(await bytesOf(part), logBefore);
    equal((await Deno.readFile(db)).length, dbBefore.length);
    // Beside the root's folders is fine.
    const ok = await runLedger(["report", "--root", root, "--out", join(root, "report.html")]);
    equal(ok.code, 0, ok.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A probe: an export into another root's day folder was read by that root's next rebuild as
// event lines, each one bad (2 in ingest_errors, exit 0).
Deno.test("report and export refuse an --out in another root's log or artifacts", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-out-other-log-" });
  const root = join(dir, "root");
  const other = join(dir, "other");
  try {
    await indexOneRun(root);
    await indexOneRun(other);
    const events = join(other, "events");
    const day = [...Deno.readDirSync(events)].find((e) => e.name.startsWith("day="))!.name;
    const before = [...Deno.readDirSync(join(events, day))].map((e) => e.name).sort();
    await Deno.symlink(join(events, day), join(dir, "link"));
    for (const out of [join(events, day, "runs.jsonl"), join(dir, "link", "runs.csv")]) {
      for (
        const args of [
          ["report", "--root", root, "--out", out],
          ["export", "runs", "--root", root, "--format", "jsonl", "--out", out],
        ]
      ) {
        const r = await runLedger(args);
        equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        equal(
          r.stderr,
          `ledger ${args[0]}: --out ${out} is inside ${join(events, day)} (a day of a ledger's ` +
            "append-only log): write it elsewhere\n",
        );
      }
    }
    equal([...Deno.readDirSync(join(events, day))].map((e) => e.name).sort().join(), before.join());
    // A review: the target of a day folder linked from another disk (OPERATIONS.md 7), whose
    // folder is not named events, and another root's artifacts were written over.
    const cold = join(dir, "cold");
    await Deno.mkdir(cold);
    await Deno.rename(join(events, day), join(cold, day));
    await Deno.symlink(join(cold, day), join(events, day));
    const artifacts = join(other, "artifacts", "runs", "g1");
    await Deno.mkdir(artifacts, { recursive: true });
    for (
      const [out, pattern] of [
        [join(cold, day, "runs.jsonl"), /\(a day of a ledger's append-only log\)/],
        [join(artifacts, "trials.parquet"), /\(a run's artifacts\)/],
      ] as const
    ) {
      const r = await runLedger([
        ...["export", "runs", "--root", root, "--format", "jsonl", "--out", out],
      ]);
      equal(r.code, 2, r.stderr);
      match(r.stderr, pattern);
    }
    equal([...Deno.readDirSync(artifacts)].length, 0);
    // The root's own day and run folders linked from another disk, by targets named otherwise
    // (a review); and a project's own artifacts/runs/ folder, no ledger's, stays writable.
    const ownDay = [...Deno.readDirSync(join(root, "events"))].find((e) =>
      e.name.startsWith("day=")
    )!.name;
    await Deno.rename(join(root, "events", ownDay), join(dir, "dec07"));
    await Deno.symlink(join(dir, "dec07"), join(root, "events", ownDay));
    await Deno.mkdir(join(dir, "big", "bt1"), { recursive: true });
    await Deno.mkdir(join(root, "artifacts", "runs"), { recursive: true });
    await Deno.symlink(join(dir, "big", "bt1"), join(root, "artifacts", "runs", "bt1"));
    for (
      const [out, pattern] of [
        [join(dir, "dec07", "runs.jsonl"), /\(the ledger's append-only log\)/],
        [join(dir, "big", "bt1", "x.parquet"), /\(the runs' artifacts\)/],
      ] as const
    ) {
      const r = await runLedger([
        ...["export", "runs", "--root", root, "--format", "jsonl", "--out", out],
      ]);
      equal(r.code, 2, r.stderr);
      match(r.stderr, pattern);
    }
    // A review: artifacts/runs itself a link to another disk, and a run folder of another root
    // moved elsewhere under another name (its manifest.json names the run); a loop of links in
    // events/ failed every export.
    await Deno.writeTextFile(join(dir, "big", "bt1", "manifest.json"), '{"run_id":"bt1"}');
    const moved = join(dir, "elsewhere", "some-run");
    await Deno.mkdir(moved, { recursive: true });
    await Deno.writeTextFile(join(moved, "manifest.json"), '{"run_id":"g2"}');
    await Deno.rename(join(root, "artifacts", "runs"), join(dir, "runs-disk"));
    await Deno.symlink(join(dir, "runs-disk"), join(root, "artifacts", "runs"));
    await Deno.mkdir(join(dir, "runs-disk", "r9"));
    await Deno.symlink("loop", join(root, "events", "loop"));
    for (const out of [join(dir, "runs-disk", "r9", "x.parquet"), join(moved, "x.parquet")]) {
      const r = await runLedger([
        ...["export", "runs", "--root", root, "--format", "parquet", "--out", out],
      ]);
      equal(r.code, 2, `${out}: ${r.stderr}`);
      match(r.stderr, /\((the runs'|a run's) artifacts\)/);
    }
    // artifacts/runs itself a loop of links: passed over, as verify and rebuild-index do.
    await Deno.remove(join(root, "artifacts", "runs"));
    await Deno.symlink("runs", join(root, "artifacts", "runs"));
    const project = join(dir, "proj", "artifacts", "runs", "q4");
    await Deno.mkdir(project, { recursive: true });
    const mine = await runLedger([
      ...["export", "runs", "--root", root, "--format", "csv"],
      ...["--out", join(project, "summary.csv")],
    ]);
    equal(mine.code, 0, mine.stderr);
    // Beside the other root's log is fine.
    const ok = await runLedger([
      ...["export", "runs", "--root", root, "--format", "jsonl"],
      ...["--out", join(other, "runs.jsonl")],
    ]);
    equal(ok.code, 0, ok.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A probe: `export --out data/baseline_results.duckdb` replaced the legacy DuckDB dual mode reads
// (before a backfill, the only copy of the runs made before the cutover) with a CSV, exit 0.
Deno.test("report and export refuse an --out that is dual mode's legacy DuckDB", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-out-legacy-" });
  const root = join(dir, "root");
  try {
    await indexOneRun(root);
    await Deno.mkdir(join(dir, "data"));
    const legacy = join(dir, "data", "baseline_results.duckdb");
    await Deno.writeTextFile(legacy, "legacy bytes");
    for (
      const out of ["data/baseline_results.duckdb", legacy, "data/baseline_results.duckdb.wal"]
    ) {
      for (
        const args of [
          ["report", "--root", root, "--out", out],
          ["export", "runs", "--root", root, "--format", "csv", "--out", out],
        ]
      ) {
        const r = await runLedger(args, { cwd: dir });
        equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        match(r.stderr, /--out .* is the legacy DuckDB of dual mode: write it elsewhere/);
      }
    }
    equal(await bytesOf(legacy), "legacy bytes");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// A bad-input probe: an --out through a loop of links, or too long a name, was an uncaught stack
// trace from the permission check. One line now, exit 1, nothing written.
Deno.test("report and export: an --out that cannot be looked at is one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-out-loop-" });
  const root = join(dir, "root");
  try {
    await indexOneRun(root);
    await Deno.symlink(join(dir, "loop-b"), join(dir, "loop-a"));
    await Deno.symlink(join(dir, "loop-a"), join(dir, "loop-b"));
    for (
      const args of [
        ["report", "--out", join(dir, "loop-a", "r.html")],
        ["export", "runs", "--format", "csv", "--out", join(dir, "loop-a", "x.csv")],
      ]
    ) {
      const r = await runLedger([...args, "--root", root]);
      equal(r.code, 1, r.stderr);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      match(r.stderr, /^ledger (report|export): Too many levels of symbolic links/);
    }
    // A name no file system takes: a usage error naming --out (helper-299: the OS's "File name
    // too long (os error 36): realpath ...", exit 1).
    for (
      const args of [
        ["report", "--out", join(dir, `${"a".repeat(300)}.html`)],
        ["export", "runs", "--format", "csv", "--out", join(dir, "a".repeat(300), "x.csv")],
      ]
    ) {
      const r = await runLedger([...args, "--root", root]);
      equal(r.code, 2, r.stderr);
      equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      match(
        r.stderr,
        /^ledger (report|export): --out .* has a name of 30\d bytes: a file or folder/,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report and export: a --db that is a folder holding --out is said to be a folder", async () => {
  const dir = await Deno.makeTempDir({ prefix: "ledger-out-dbdir-" });
  const root = join(dir, "root");
  try {
    await indexOneRun(root);
    // A probe: "--out x.html is inside DIR (the index file)": the index is a file, and DIR none.
    for (
      const args of [
        ["report", "--out", join(dir, "r.html")],
        ["export", "runs", "--format", "csv", "--out", join(dir, "x.csv")],
      ]
    ) {
      const r = await runLedger([...args, "--db", dir, "--root", root]);
      equal(r.code, 1, r.stderr);
      equal(
        r.stderr,
        `ledger ${args[0]}: ${dir} is a directory, not a regular file: refusing to open it\n`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
