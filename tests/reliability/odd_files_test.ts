/**
 * Odd files and waits (issue 19.10, 19.14): a FIFO where the index should be
 * is refused at once instead of hanging `rebuild-index` and `runs`; a
 * rebuild that waits on another's lock says so and for whom; a damaged
 * daemon lock file is described, never echoed raw to the terminal.
 *
 * @module
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { CLI_PATH, denoScriptArgs, runCreatedArgs, runLedger } from "../_helpers.ts";
import { fullRun, T0, writePart } from "../indexer/_fixtures.ts";

/** Longest a refused command may take before the test calls it a hang, ms. */
const REFUSAL_MS_MAX = 60_000;

async function mkfifo(path: string): Promise<void> {
  const r = await new Deno.Command("mkfifo", { args: [path] }).output();
  equal(r.code, 0, new TextDecoder().decode(r.stderr));
}

Deno.test("odd files: a FIFO at the index path is refused, not waited on", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger-odd-" });
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await Deno.mkdir(join(root, "index"));
    await mkfifo(join(root, "index", "runs.duckdb"));
    for (const args of [["rebuild-index"], ["runs"], ["show", "run-a"]]) {
      await t.step(args[0], async () => {
        const r = await runLedger([...args, "--root", root], {
          signal: AbortSignal.timeout(REFUSAL_MS_MAX),
        });
        equal(r.code, 1, r.stderr);
        equal(r.stderr.trim().split("\n").length, 1, r.stderr);
        match(r.stderr, /runs\.duckdb.*(not a regular file|FIFO)/i);
      });
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

// The run-id lock opens the events directory; a FIFO there would block that open forever.
Deno.test("odd files: a FIFO where the events directory goes is refused by emit of run.created", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-odd-" });
  try {
    await mkfifo(join(root, "events"));
    const r = await runLedger(runCreatedArgs(root, "r1"), {
      signal: AbortSignal.timeout(REFUSAL_MS_MAX),
    });
    equal(r.code, 1, r.stderr);
    equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    match(r.stderr, /events: is not a directory/);
    // Any other emit: one line naming the events path too.
    const started = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.started",
      "--run-id",
      "r1",
    ], {
      signal: AbortSignal.timeout(REFUSAL_MS_MAX),
    });
    equal(started.code, 1, started.stderr);
    match(started.stderr, /^ledger emit: Cannot write \S+\/events: /);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("odd files: a rebuild waiting on another's lock says so and for whom", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-odd-" });
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await Deno.mkdir(join(root, "index"));
    const lockPath = join(root, "index", ".runs.duckdb.rebuild.lock");
    const held = await Deno.open(lockPath, { read: true, write: true, create: true });
    await held.lock(true);
    await held.write(new TextEncoder().encode(`${Deno.pid}\n`));
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(CLI_PATH, ["rebuild-index", "--root", root]),
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(REFUSAL_MS_MAX), // a silent wait fails the test, not hangs it
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let said = "";
    const deadline = Date.now() + REFUSAL_MS_MAX;
    while (!said.includes("waiting") && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      said += value;
    }
    match(said, new RegExp(`waiting for another rebuild .*\\(held by pid ${Deno.pid}`));
    held.unlockSync();
    held.close();
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
    }
    const status = await child.status;
    await child.stdout.cancel();
    equal(status.code, 0, "the rebuild goes on once the lock is released");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("odd files: a damaged daemon lock file is described, not echoed", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-odd-" });
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await Deno.mkdir(join(root, "index"));
    const lockPath = join(root, "index", "daemon.lock");
    const held = await Deno.open(lockPath, { read: true, write: true, create: true });
    try {
      await held.lock(true);
      // Binary garbage with a terminal escape sequence in it.
      await held.write(new Uint8Array([0x1b, 0x5b, 0x32, 0x4a, 0x00, 0xff, 0x07, 0x41]));
      const r = await runLedger(["daemon", "--root", root, "--interval", "1"], {
        signal: AbortSignal.timeout(REFUSAL_MS_MAX),
      });
      equal(r.code, 1, r.stderr);
      // deno-lint-ignore no-control-regex
      ok(!/[\u0000-\u0008\u001b\u007f]/.test(r.stderr), JSON.stringify(r.stderr));
      match(r.stderr, /Another daemon is already running for this root \(holder unknown/);
    } finally {
      held.close();
    }
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("odd files: verify names what a skipped entry is, and why it is skipped", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-odd-" });
  const day = join(root, "events", "day=2026-01-20");
  try {
    await writePart(root, "day=2026-01-20/part-1.jsonl", fullRun("run-a", T0));
    await mkfifo(join(day, "x.jsonl"));
    await mkfifo(join(root, "events", "pipe"));
    await Deno.mkdir(join(day, "d.jsonl"));
    await Deno.writeTextFile(join(day, ".hidden.jsonl"), "");
    await Deno.writeTextFile(join(day, "notes.txt"), "");
    const r = await runLedger(["verify", "--root", root], {
      signal: AbortSignal.timeout(REFUSAL_MS_MAX), // reading the FIFO would hang
    });
    const ignored = r.stdout.split("\n").filter((l) => l.startsWith("ignored: ")).sort();
    equal(
      ignored.join("\n"),
      [
        "ignored: events/day=2026-01-20/.hidden.jsonl (file, hidden: its name starts with a dot)",
        "ignored: events/day=2026-01-20/d.jsonl (directory, not a regular file)",
        "ignored: events/day=2026-01-20/notes.txt (file, not a *.jsonl file)",
        "ignored: events/day=2026-01-20/x.jsonl (FIFO, not a regular file)",
        "ignored: events/pipe (FIFO, not a day directory)",
      ].join("\n"),
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
