import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { query } from "../indexer/_fixtures.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";

const CLI = new URL("../../cli/ledger.ts", import.meta.url).pathname;
const PERMS = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys"];
/** Longest wait for a daemon log line. */
const LINE_WAIT_MS = 30_000;

/** A running daemon process whose stdout lines are collected as they come. */
function startDaemon(root: string, extra: string[] = []) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, CLI, "daemon", "--root", root, "--interval", "0.2", ...extra],
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
  async function waitForLines(n: number): Promise<void> {
    const end = Date.now() + LINE_WAIT_MS;
    while (lines.length < n) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${n} lines: ${lines}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { child, lines, stdoutDone, stderr, waitForLines };
}

Deno.test("ledger daemon: rebuilds on change only, one daemon per root, exits 0 on SIGTERM", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-daemon-" });
  const daemon = startDaemon(root);
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-1", T0));

    await t.step("first check builds the index", async () => {
      await daemon.waitForLines(1);
      match(daemon.lines[0], /rebuild (full|incremental)/);
    });

    await t.step("an append is picked up by an incremental rebuild", async () => {
      await daemon.waitForLines(1);
      const before = daemon.lines.length;
      await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-2", T0 + 100), {
        append: true,
      });
      await daemon.waitForLines(before + 1);
      match(daemon.lines.at(-1)!, /rebuild incremental/);
      const runs = await query(join(root, "index", "runs.duckdb"), "SELECT run_id FROM runs_d");
      ok(runs.some((r) => r.run_id === "run-2"));
    });

    await t.step("no change, no rebuild", async () => {
      const before = daemon.lines.length;
      await new Promise((r) => setTimeout(r, 1000));
      equal(daemon.lines.length, before);
    });

    await t.step("a second daemon on the same root refuses with exit 1", async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...PERMS, CLI, "daemon", "--root", root, "--interval", "0.2"],
        stdout: "piped",
        stderr: "piped",
      }).output();
      equal(out.code, 1);
      match(new TextDecoder().decode(out.stderr), /Another daemon is already running.*pid \d+/);
    });

    await t.step("SIGTERM: exit 0", async () => {
      daemon.child.kill("SIGTERM");
      equal((await daemon.child.status).code, 0);
      await daemon.stdoutDone;
      match(await daemon.stderr, /stopped after/);
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
