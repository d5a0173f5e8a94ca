import { match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { query } from "../indexer/_fixtures.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys"];
/** Longest wait for a daemon log line. */
const LINE_WAIT_MS = 30_000;

/** A running daemon process whose stdout lines are collected as they come. */
function startDaemon(root: string, extra: string[] = [], perms: string[] = PERMS) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, CLI, "daemon", "--root", root, "--interval", "0.2", ...extra],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  const stdoutDone = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      const parts = buffer.split("\n");
      buffer = parts.pop()!;
      lines.push(...parts);
    }
  })();
  const stderr = new Response(child.stderr).text();
  /** The log lines of rebuilds (text or JSON form). */
  const rebuilds = () => lines.filter((l) => /rebuild (full|incremental)/.test(l));
  async function waitFor(what: string, ready: () => boolean): Promise<void> {
    const end = Date.now() + LINE_WAIT_MS;
    while (!ready()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${lines}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const waitForLines = (n: number) => waitFor(`${n} rebuild lines`, () => rebuilds().length >= n);
  return { child, lines, rebuilds, stdoutDone, stderr, waitFor, waitForLines };
}

Deno.test("ledger daemon: rebuilds on change only, one daemon per root, exits 0 on SIGTERM", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-daemon-" });
  const daemon = startDaemon(root);
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-1", T0));

    await t.step("first check builds the index", async () => {
      await daemon.waitForLines(1);
      match(daemon.rebuilds()[0], /rebuild (full|incremental)/);
    });

    await t.step("an append is picked up by an incremental rebuild", async () => {
      await daemon.waitForLines(1);
      const before = daemon.rebuilds().length;
      await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-2", T0 + 100), {
        append: true,
      });
      await daemon.waitForLines(before + 1);
      match(daemon.rebuilds().at(-1)!, /rebuild incremental/);
      const runs = await query(join(root, "index", "runs.duckdb"), "SELECT run_id FROM runs_d");
      ok(runs.some((r) => r.run_id === "run-2"));
    });

    await t.step("no change, no rebuild", async () => {
      const before = daemon.rebuilds().length;
      await new Promise((r) => setTimeout(r, 1000));
      equal(daemon.rebuilds().length, before);
    });

    await t.step("a second daemon on the same root refuses with exit 1", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMS, CLI, "daemon", "--root", root, "--interval", "0.2"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(out.code, 1);
      match(new TextDecoder().decode(out.stderr), /Another daemon is already running.*pid \d+/);
      // It never held the lock, so it never said it was watching.
      equal(new TextDecoder().decode(out.stdout), "");
    });

    await t.step("SIGTERM: exit 0", async () => {
      daemon.child.kill("SIGTERM");
      equal((await daemon.child.status).code, 0);
      await daemon.stdoutDone;
      equal(await daemon.stderr, "");
      match(daemon.lines.at(-1)!, /info stopped after \d+ checks/);
    });

    await t.step("every line has one format: ISO time, level, message", () => {
      ok(daemon.lines.length >= 4, daemon.lines.join("\n"));
      for (const line of daemon.lines) {
        match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info|warn|error) \S/);
      }
      match(daemon.lines[0], /info watching .* every 0\.2 s \(pid \d+\)/);
    });

    await t.step("a lock left by a dead daemon is taken over; SIGINT exits 0", async () => {
      await Deno.writeTextFile(
        join(root, "index", "daemon.lock"),
        JSON.stringify({ pid: 999999, host: "gone" }),
      );
      const next = startDaemon(root);
      await next.waitForLines(1);
      const holder = JSON.parse(await Deno.readTextFile(join(root, "index", "daemon.lock")));
      equal(holder.pid, next.child.pid);
      next.child.kill("SIGINT");
      equal((await next.child.status).code, 0);
      await next.stdoutDone;
      await next.stderr;
    });
  } finally {
    await stopIfRunning(daemon.child);
    await Deno.remove(root, { recursive: true });
  }
});

// A concurrency audit: a run's process killed with kill -9 writes nothing, so the daemon saw no
// change and the run stayed `running` (24 hours, or until any other event), while one plain
// rebuild-index showed it `stale`.
Deno.test("ledger daemon: a running run whose process dies turns stale with no log change", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-daemon-live-" });
  const sleeper = new Deno.Command("sleep", { args: ["600"] }).spawn();
  // ps tells a live process from a dead one (reading /proc needs --allow-all).
  const daemon = startDaemon(root, [], [...PERMS, "--allow-run=ps"]);
  const dbPath = join(root, "index", "runs.duckdb");
  const status = async () =>
    (await query(dbPath, "SELECT status FROM latest_runs WHERE run_id = 'live'"))[0]?.status;
  try {
    const now = Date.now();
    const day = new Date(now).toISOString().slice(0, 10);
    await writePart(root, `day=${day}/part-1.jsonl`, [
      {
        event_type: "run.created",
        event_id: "live-1",
        timestamp_ms: now - 1_000,
        run_id: "live",
        run_type: "policy",
        config: {},
        data_fingerprint: "f",
      },
      {
        event_type: "run.started",
        event_id: "live-2",
        timestamp_ms: now,
        run_id: "live",
        host: Deno.hostname(),
        pid: sleeper.pid,
      },
    ]);
    await daemon.waitForLines(1);
    equal(await status(), "running");
    const before = daemon.rebuilds().length;
    sleeper.kill("SIGKILL");
    await sleeper.status;
    await daemon.waitForLines(before + 1);
    equal(await status(), "stale");
    // Recorded once: no rebuild on every check after it.
    const after = daemon.rebuilds().length;
    await new Promise((r) => setTimeout(r, 1000));
    equal(daemon.rebuilds().length, after);
    daemon.child.kill("SIGTERM");
    equal((await daemon.child.status).code, 0);
    await daemon.stdoutDone;
    await daemon.stderr;
  } finally {
    await stopIfRunning(sleeper);
    await stopIfRunning(daemon.child);
    await Deno.remove(root, { recursive: true });
  }
});

/** SIGKILL a child that a failed step left running (an exited one throws TypeError). */
async function stopIfRunning(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
  }
  await child.status;
}

Deno.test("ledger daemon: bad --interval is a usage error", async () => {
  for (const bad of ["0", "-1", "abc"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...PERMS, CLI, "daemon", "--interval", bad],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 2, bad);
    match(new TextDecoder().decode(out.stderr), /--interval/);
  }
});

Deno.test("ledger daemon: --log-json lines, and a damaged index heals with a warn line", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-daemon-" });
  await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-1", T0));
  const daemon = startDaemon(root, ["--log-json", "--verbose"]);
  try {
    const entries = () => daemon.lines.map((l) => JSON.parse(l));
    await t.step("JSON lines with time, level, msg and fields", async () => {
      await daemon.waitForLines(1);
      const rebuild = entries().find((e) => e.event === "rebuild");
      equal(rebuild.level, "info");
      equal(rebuild.events, 10);
      match(rebuild.time, /^\d{4}-\d\d-\d\dT.*Z$/);
      match(rebuild.msg, /^rebuild (full|incremental): /);
      ok(entries().some((e) => e.level === "debug"), "--verbose adds debug entries");
    });
    await t.step("garbage written over the index: rebuilt in full, warned, readable", async () => {
      const before = daemon.rebuilds().length;
      await Deno.writeTextFile(join(root, "index", "runs.duckdb"), "garbage");
      await daemon.waitForLines(before + 1);
      const warn = entries().find((e) => e.level === "warn");
      ok(warn !== undefined, daemon.lines.join("\n"));
      match(warn.msg, /the index could not be updated .*rebuilt it in full from the log/);
      const runs = await query(join(root, "index", "runs.duckdb"), "SELECT run_id FROM runs_d");
      equal(runs.length, 1);
      ok(!entries().some((e) => e.level === "error"), daemon.lines.join("\n"));
    });
    daemon.child.kill("SIGTERM");
    equal((await daemon.child.status).code, 0);
    await daemon.stdoutDone;
    equal(await daemon.stderr, "");
  } finally {
    await stopIfRunning(daemon.child);
    await Deno.remove(root, { recursive: true });
  }
});
