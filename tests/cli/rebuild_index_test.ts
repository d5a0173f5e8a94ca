import { deepStrictEqual as deepEqual, match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { ev, fullRun, query, T0, writePart } from "../indexer/_fixtures.ts";
import { denoScriptArgs, runLedger } from "../_helpers.ts";
import { generateLog } from "../../bench/rebuild.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;

/** `ledger ARGS` as a child process, with the permissions `deno task test` grants. */
function ledger(args: string[]) {
  return runLedger(args);
}

Deno.test("ledger rebuild-index: builds, updates, --db, --verbose, exit 2 on bad input", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));

    await t.step("first run builds in full, verbose progress on stderr", async () => {
      const r = await ledger(["rebuild-index", "--root", root, "--verbose"]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /Indexed 10 events of 1 runs .*\(full/);
      match(r.stderr, /part files/);
      match(r.stderr, /published .* ms/);
    });

    await t.step("second run is incremental; --full forces a full one", async () => {
      await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-2", T0 + 5), {
        append: true,
      });
      const r = await ledger(["rebuild-index", "--root", root]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /Indexed 20 events of 2 runs .*\(incremental/);
      const f = await ledger([
        "rebuild-index",
        "--root",
        root,
        "--full",
        "--since-date",
        "2026-01-20",
      ]);
      equal(f.code, 0, f.stderr);
      match(f.stdout, /\(full/);
      // The date changes nothing in a full rebuild: said, not silently dropped.
      match(f.stderr, /warning: --since-date 2026-01-20 is ignored with --full/);
      const g = await ledger(["rebuild-index", "--root", root, "--since-date", "2026-01-20"]);
      equal(g.code, 0, g.stderr);
      ok(!g.stderr.includes("ignored"), g.stderr);
      // A bad line is counted as read, not as new, when --since-date reads its day again (a
      // probe: "1 new bad lines" of an unchanged log).
      await writePart(root, "day=2026-01-20/part-000001.jsonl", ["{not json"], { append: true });
      const once = await ledger(["rebuild-index", "--root", root]);
      match(once.stdout, /, 1 bad lines read, 1 in ingest_errors\)/);
      const again = await ledger(["rebuild-index", "--root", root, "--since-date", "2026-01-20"]);
      match(again.stdout, /, 1 bad lines read, 1 in ingest_errors\)/);
      // Appends and a window read again are not changes to warn of.
      for (const rebuild of [g, once, again]) {
        ok(!rebuild.stderr.includes("changed"), rebuild.stderr);
      }
    });

    await t.step("a part cut back by hand: one warning line naming it", async () => {
      const path = join(root, "events", "day=2026-01-20", "part-000001.jsonl");
      const text = await Deno.readTextFile(path);
      const indexed = new TextEncoder().encode(text).length;
      const kept = text.split("\n").slice(0, 10).join("\n") + "\n"; // run-1 only
      await Deno.writeTextFile(path, kept);
      const r = await ledger(["rebuild-index", "--root", root]);
      equal(r.code, 0, r.stderr);
      match(r.stdout, /Indexed 10 events of 1 runs .*\(incremental/);
      equal(
        r.stderr,
        "ledger rebuild-index: warning: 1 part file changed where it was already indexed (the " +
          "log is append-only: edited, cut back or removed by hand?); the events it held left " +
          "the index and what it holds now was read: day=2026-01-20/part-000001.jsonl (cut back " +
          `from ${indexed} indexed bytes to ${new TextEncoder().encode(kept).length})\n`,
      );
      const quiet = await ledger(["rebuild-index", "--root", root]);
      equal(quiet.stderr, "", "said once, by the rebuild that found it");
      // The lines put back are appends to what is indexed now: nothing to say.
      await Deno.writeTextFile(path, text);
      const back = await ledger(["rebuild-index", "--root", root]);
      equal(back.stderr, "");
      match(back.stdout, /Indexed 20 events of 2 runs .*\(incremental/);
    });

    await t.step("--db writes the index elsewhere", async () => {
      const db = join(root, "other.duckdb");
      const r = await ledger(["rebuild-index", "--root", root, "--db", db]);
      equal(r.code, 0, r.stderr);
      equal((await query(db, "SELECT count(*) AS n FROM runs_d"))[0].n, 2);
    });

    await t.step(
      "bad dates, unknown flags and bad values exit 2 (usage) with one line",
      async () => {
        for (
          const args of [
            ["--since-date", "2026-02-30"],
            ["--since-date", "garbage"],
            ["--since-date", "2026-1-5"],
            ["--bogus"],
            ["--stale-after-hours", "0"],
            ["--db", ""],
          ]
        ) {
          const r = await ledger(["rebuild-index", "--root", root, ...args]);
          equal(r.code, 2, args.join(" "));
          equal(r.stderr.trim().split("\n").length, 1, r.stderr);
          match(r.stderr, /^ledger rebuild-index: /);
        }
      },
    );

    await t.step("--help prints usage and exits 0", async () => {
      const r = await ledger(["rebuild-index", "--help"]);
      equal(r.code, 0);
      ok(r.stdout.includes("--since-date"));
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ledger rebuild-index: a dead run process shows stale under task-like permissions (ps)", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    const child = new Deno.Command(Deno.execPath(), { args: ["eval", "0"] }).spawn();
    const deadPid = child.pid;
    await child.status;
    const host = Deno.hostname();
    const now = Date.now();
    const created = (id: string) =>
      ev("run.created", id, now - 10, { run_type: "x", config: {}, data_fingerprint: "" });
    await writePart(root, "day=2026-01-20/part-1.jsonl", [
      created("dead"),
      ev("run.started", "dead", now - 5, { host, pid: deadPid }),
      created("alive"),
      ev("run.started", "alive", now - 5, { host, pid: Deno.pid }),
    ]);
    // No --allow-all: /proc is out of reach (Deno 2.9), so the ps fallback answers.
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys=hostname",
        "--allow-run=ps",
        CLI,
        "rebuild-index",
        "--root",
        root,
        "--verbose",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    equal(out.code, 0, stderr);
    ok(!stderr.includes("pid check skipped"), stderr);
    const status = await query(
      join(root, "index", "runs.duckdb"),
      "SELECT run_id, status FROM latest_runs ORDER BY run_id",
    );
    deepEqual(status, [{ run_id: "alive", status: "running" }, {
      run_id: "dead",
      status: "stale",
    }]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

/** Index-directory entries a rebuild must never leave behind. */
async function tempLeftovers(root: string): Promise<string[]> {
  const names: string[] = [];
  for await (const e of Deno.readDir(join(root, "index"))) {
    if (/\.tmp-|\.stage-|\.wal$/.test(e.name)) names.push(e.name);
  }
  return names;
}

/** A log big enough that a full rebuild takes a few seconds. */
async function bigLog(root: string, events = BIG_LOG_EVENTS): Promise<void> {
  await generateLog(root, { events, seed: 3 });
}
const BIG_LOG_EVENTS = 150_000;

Deno.test("ledger rebuild-index: SIGINT/SIGTERM remove the temp files, one line, exit 130/143", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));
    equal((await ledger(["rebuild-index", "--root", root])).code, 0);
    const db = join(root, "index", "runs.duckdb");
    const before = await Deno.readFile(db);
    await bigLog(root);
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      await t.step(`${signal} while the new index is being built`, async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: denoScriptArgs(CLI, ["rebuild-index", "--root", root, "--full"]),
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const temp = `runs.duckdb.tmp-${child.pid}`;
        const deadline = Date.now() + 60_000;
        while (!(await tempLeftovers(root)).includes(temp)) {
          if (Date.now() > deadline) throw new Error(`${temp} never appeared`);
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 300)); // well inside the build
        child.kill(signal);
        const out = await child.output();
        const stderr = new TextDecoder().decode(out.stderr);
        equal(out.code, code, stderr);
        equal(stderr.trim().split("\n").length, 1, stderr);
        match(stderr, new RegExp(`^ledger rebuild-index: interrupted by ${signal}; temporary`));
        equal(new TextDecoder().decode(out.stdout), "");
        deepEqual(await tempLeftovers(root), []);
        deepEqual(await Deno.readFile(db), before, "the previous index is unchanged");
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ledger rebuild-index: a progress line on a terminal only", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    // Long enough to pass the line's first second on a fast machine too (150k events took
    // 0.9 s on an idle one, and the line never showed).
    await bigLog(root, 3 * BIG_LOG_EVENTS);
    await t.step("on a pipe: nothing on stderr", async () => {
      const r = await ledger(["rebuild-index", "--root", root, "--full"]);
      equal(r.code, 0, r.stderr);
      equal(r.stderr, "");
    });
    await t.step("on a terminal (script's pty): one line redrawn with \\r", async () => {
      const command = [Deno.execPath(), ...denoScriptArgs(CLI, ["rebuild-index", "--root", root])]
        .concat("--full")
        .map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(" ");
      const out = await new Deno.Command("script", {
        args: ["-qec", command, "/dev/null"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout);
      equal(out.code, 0, text);
      ok(text.includes("\r\x1b[Krebuild-index: "), JSON.stringify(text.slice(0, 300)));
      match(text, /Indexed \d+ events/);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// Apart from the progress steps, on a small log: each rebuild of the 450k-event log took
// seconds (the one at 128MB 10 s) that these steps do not need.
Deno.test("ledger rebuild-index: a garbage index heals; --memory-limit is checked", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await bigLog(root, 5_000);
    equal((await ledger(["rebuild-index", "--root", root])).code, 0);
    await t.step("a garbage index: warning line, full rebuild, exit 0", async () => {
      await Deno.writeTextFile(join(root, "index", "runs.duckdb"), "garbage");
      const r = await ledger(["rebuild-index", "--root", root]);
      equal(r.code, 0, r.stderr);
      match(r.stderr, /^ledger rebuild-index: warning: the index could not be updated \(/);
      match(r.stderr, /rebuilt it in full from the log/);
      // The damaged file named as the index, not as its copy (helper-300).
      match(
        r.stderr,
        /"[^"]*\/index\/runs\.duckdb \(as copied to be updated\)" exists, but it is not/,
      );
      ok(!/\.tmp-\d+/.test(r.stderr), r.stderr);
      match(r.stdout, /\(full: /);
    });
    await t.step("--memory-limit: taken, and a bad one is refused in one line", async () => {
      const r = await ledger(["rebuild-index", "--root", root, "--memory-limit", "256MB"]);
      equal(r.code, 0, r.stderr);
      const bad = await ledger(["rebuild-index", "--root", root, "--memory-limit", "lots"]);
      equal(bad.code, 2);
      match(bad.stderr, /^ledger rebuild-index: Invalid --memory-limit "lots"/);
      equal(bad.stderr.trim().split("\n").length, 1);
      // 64MB was taken and then ran out of memory on a 3 MB log (exit 1); 99999999TB failed
      // in DuckDB ("Failed to set config"). Both are usage errors now; 128MB rebuilds.
      for (const size of ["64MB", "99999999TB"]) {
        const r = await ledger(["rebuild-index", "--root", root, "--memory-limit", size]);
        equal(r.code, 2, r.stderr);
        match(r.stderr, /at least 128MB, at most 1000TB\)$/m);
      }
      const least = await ledger([
        "rebuild-index",
        "--root",
        root,
        "--full",
        "--memory-limit",
        "128MB",
      ]);
      equal(least.code, 0, least.stderr);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ledger rebuild-index: a root without events/ is indexed, with a warning", async () => {
  // An audit: --root data for data/ledger made data/index/runs.duckdb and said only
  // "Indexed 0 events".
  const dir = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await Deno.mkdir(join(dir, "sample"));
    const r = await ledger(["rebuild-index", "--root", dir]);
    equal(r.code, 0, r.stderr);
    match(r.stdout, /Indexed 0 events of 0 runs/);
    match(r.stderr, /warning: .* has no events\/ directory \(is --root the ledger root/);
    // A ledger root whose log is there, even empty, gets no such line.
    await Deno.mkdir(join(dir, "events"));
    const again = await ledger(["rebuild-index", "--root", dir]);
    equal(again.code, 0, again.stderr);
    equal(again.stderr, "");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ledger rebuild-index: SIGINT/SIGTERM end a wait for another rebuild's lock", async (t) => {
  // An ops audit: behind a stopped daemon's lock, rebuild-index ignored both signals for as
  // long as the holder held it (12 minutes), against its help's "exit 130 or 143".
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));
    equal((await ledger(["rebuild-index", "--root", root])).code, 0);
    const db = join(root, "index", "runs.duckdb");
    const before = await Deno.readFile(db);
    // This process holds the rebuild lock, as a stopped rebuild would.
    using held = await Deno.open(join(root, "index", ".runs.duckdb.rebuild.lock"), {
      read: true,
      write: true,
    });
    await held.lock(true);
    for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
      await t.step(`${signal} while waiting`, async () => {
        const child = new Deno.Command(Deno.execPath(), {
          args: denoScriptArgs(CLI, ["rebuild-index", "--root", root]),
          stdout: "piped",
          stderr: "piped",
        }).spawn();
        const reader = child.stderr.getReader();
        let said = "";
        while (!said.includes("waiting for another rebuild")) {
          const { value, done } = await reader.read();
          if (done) break;
          said += new TextDecoder().decode(value);
        }
        match(said, /waiting for another rebuild of .*runs\.duckdb to finish/);
        const sentAt = performance.now();
        child.kill(signal);
        // A child that goes on waiting fails the test instead of hanging it.
        const guard = setTimeout(() => child.kill("SIGKILL"), 15_000);
        const status = await child.status;
        clearTimeout(guard);
        const rest = [];
        for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
        const stderr = said + new TextDecoder().decode(
          new Uint8Array(rest.flatMap((c) => [...c])),
        );
        await child.stdout.cancel();
        equal(status.code, code, stderr);
        ok(performance.now() - sentAt < 5_000, "stopped at once, not when the lock was free");
        match(stderr, new RegExp(`ledger rebuild-index: interrupted by ${signal}`));
        deepEqual(await Deno.readFile(db), before, "the previous index is unchanged");
      });
    }
    held.unlockSync();
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("ledger rebuild-index --verbose: names what it skips, as verify does", async () => {
  // An index audit: a symlinked or FIFO *.jsonl and a day= entry that is no folder were
  // skipped without a word by rebuild-index, while verify listed each.
  const root = await Deno.makeTempDir({ prefix: "ledger-cli-" });
  try {
    await writePart(root, "day=2026-01-20/part-000001.jsonl", fullRun("run-1", T0));
    const day = join(root, "events", "day=2026-01-20");
    await Deno.symlink(join(day, "part-000001.jsonl"), join(day, "link.jsonl"));
    await Deno.writeTextFile(join(root, "events", "day=2026-01-21"), "a file, not a folder\n");
    const r = await ledger(["rebuild-index", "--root", root, "--verbose"]);
    equal(r.code, 0, r.stderr);
    match(r.stderr, /skipped day=2026-01-20\/link\.jsonl: not a regular file/);
    match(r.stderr, /skipped day=2026-01-21: not a day folder/);
    match(r.stdout, /Indexed 10 events of 1 runs/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
