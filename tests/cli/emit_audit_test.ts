/**
 * Findings of the write-path audit (REPORT sections 5, 6, 8, 9 and 10) on
 * `ledger emit` and the annotation commands:
 *
 * - a flag that takes one value, given twice, is a usage error naming it
 *   (it silently took the last value), on every command;
 * - an emit waiting for a shared part's lock says so after 2 s (it waited
 *   up to a minute without a word);
 * - the torn last line an emit or a tag cuts off a shared part is said on
 *   stderr (a line appended without its newline vanished silently);
 * - `--stdin` input that is not UTF-8 is refused naming its line;
 * - a repeated event id or a second `run.created` in a batch is named by
 *   line numbers, as every other batch error is (not by event numbers).
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseFlags, UsageError } from "../../cli/_args.ts";
import { exists } from "../../ledger/exists.ts";
import { listParts } from "../../ledger/reader.ts";
import { dayDir, dayOf, sharedPartFileName } from "../../ledger/paths.ts";
import {
  CLI_PATH,
  denoScriptArgs,
  LineCollector,
  REPO_ROOT,
  runCreatedArgs,
  runLedger,
  withTempDir,
} from "../_helpers.ts";

/** Arguments of a `run.noted` emit of run `runId` under `root`. */
function noteArgs(root: string, runId: string, note: string): string[] {
  return ["emit", "--root", root, "--event-type", "run.noted", "--run-id", runId, "--note", note];
}

/** The path of the first shared part of today (UTC) under `root`. */
function todaysPart(root: string): string {
  return join(dayDir(root, dayOf(Date.now())), sharedPartFileName(1));
}

Deno.test("emit audit: a flag that takes one value, given twice, is a usage error naming it", async (t) => {
  await t.step(
    "parseFlags: refused for single-valued flags, kept for repeatable and boolean ones",
    () => {
      const spec = {
        "run-id": { type: "string" },
        "where": { type: "string", multiple: true },
        "json": { type: "boolean" },
        "out": { type: "string", short: "o" },
      } as const;
      assert.throws(
        () => parseFlags(["--run-id", "a", "--run-id=b"], spec),
        new UsageError("--run-id given twice; it takes one value"),
      );
      assert.throws(
        () => parseFlags(["-o", "a", "--out", "b", "-oc"], spec),
        new UsageError("--out given 3 times; it takes one value"),
      );
      assert.throws(
        () => parseFlags(["--root", "a", "--root", "b"], spec),
        new UsageError("--root given twice; it takes one value"),
      );
      const { values } = parseFlags(
        ["--where", "a = 1", "--json", "--where", "b = 2", "--json", "--run-id", "r1", "-o", "x"],
        spec,
      );
      assert.deepEqual({ ...values }, {
        where: ["a = 1", "b = 2"],
        json: true,
        "run-id": "r1",
        out: "x",
      });
    },
  );

  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    await t.step("emit --run-id a ... --run-id b: exit 2, one line, nothing written", async () => {
      const r = await runLedger([...runCreatedArgs(root, "keep-me"), "--run-id", "oops"]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, "ledger emit: --run-id given twice; it takes one value\n");
      assert.equal(r.stdout, "");
      assert.equal(await exists(root), false, "nothing written, not even the root");
    });
    await t.step("emit --pid 1 --pid=2", async () => {
      const r = await runLedger([
        "emit",
        "--root",
        root,
        "--event-type",
        "run.started",
        "--run-id",
        "r1",
        "--pid",
        "1",
        "--pid=2",
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, "ledger emit: --pid given twice; it takes one value\n");
      assert.equal(await exists(root), false);
    });
    await t.step("archive --reason twice: the command's own prefix", async () => {
      const r = await runLedger([
        "archive",
        "--root",
        root,
        "r1",
        "--reason",
        "a",
        "--reason",
        "b",
      ]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stderr, "ledger archive: --reason given twice; it takes one value\n");
    });
    await t.step(
      "ledger --root a emit --root b (the dispatcher moves the first --root)",
      async () => {
        const r = await runLedger(["--root", root, "emit", "--root", root, "--stdin"]);
        assert.equal(r.code, 2, r.stderr);
        assert.equal(r.stderr, "ledger emit: --root given twice; it takes one value\n");
      },
    );
  });
});

Deno.test("emit audit: --stdin input that is not UTF-8 is refused naming the line", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const encoder = new TextEncoder();
    const ok = '{"event_type":"run.restored","run_id":"t"}\n';
    // A blank line first: the number is the line's, not the event's.
    const input = new Uint8Array([
      ...encoder.encode(`\n${ok}${ok}{"event_type":"run.noted","run_id":"t","note":"caf`),
      0xe9, // Latin-1 é: not UTF-8
      ...encoder.encode(`"}\n${ok}`),
    ]);
    const r = await runLedger(["emit", "--root", root, "--stdin"], { stdin: input });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(
      r.stderr,
      "ledger emit: line 4: the line is not UTF-8 (standard input must be UTF-8 JSONL)\n",
    );
    assert.equal(r.stdout, "");
    assert.equal(await exists(root), false, "nothing written");
  });
});

Deno.test("emit audit: a repeated event id or a second run.created in a batch is named by its lines", async (t) => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    await t.step("the same event_id for two different events", async () => {
      const stdin = '\n{"event_type":"run.noted","run_id":"c1","note":"a","event_id":"X1"}\n\n' +
        '{"event_type":"run.noted","run_id":"c1","note":"b","event_id":"X1"}\n';
      const r = await runLedger(["emit", "--root", root, "--stdin"], { stdin });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr,
        'ledger emit: event_id "X1" is given to two different events in this batch ' +
          "(lines 2 and 4)\n",
      );
    });
    await t.step("two run.created of one run", async () => {
      const created = '{"event_type":"run.created","run_id":"c9","run_type":"a","config":{},' +
        '"data_fingerprint":"f"}';
      const stdin = `\n${created}\n\n\n${created}\n`;
      const r = await runLedger(["emit", "--root", root, "--stdin"], { stdin });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr,
        "ledger emit: run c9 has two run.created in this batch (lines 2 and 5); use another " +
          "run id for the second, or --allow-existing\n",
      );
    });
    assert.deepEqual(await listParts(root), [], "nothing written");
  });
});

/** A line appended to a part without its newline (by hand: `printf >> part`). */
const UNTERMINATED =
  '{"event_type":"run.noted","event_id":"manual-1","timestamp_ms":1796100000000,"run_id":"t1",' +
  '"schema_version":1,"note":"complete but no newline"}';

Deno.test("emit audit: the torn last line an emit cuts off a shared part is said on stderr", async () => {
  await withTempDir(async (root) => {
    const first = await runLedger(runCreatedArgs(root, "t1"));
    assert.equal(first.code, 0, first.stderr);
    const part = todaysPart(root);
    const before = await Deno.readFile(part);
    await Deno.writeTextFile(part, UNTERMINATED, { append: true });

    const r = await runLedger(noteArgs(root, "t1", "after"));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stderr,
      `ledger emit: removed ${UNTERMINATED.length} bytes of a torn last line from ${part} ` +
        "(a writer killed mid-line, or a line appended without its newline)\n",
    );
    const after = await Deno.readFile(part);
    assert.deepEqual(after.subarray(0, before.length), before, "the whole lines stay");
    assert.ok(!new TextDecoder().decode(after).includes("manual-1"), "the torn line is gone");

    const again = await runLedger(noteArgs(root, "t1", "again"));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, "", "nothing to say when nothing was cut");
  });
});

Deno.test("emit audit: the torn last line a note cuts off a shared part is said on stderr", async () => {
  await withTempDir(async (root) => {
    const first = await runLedger(runCreatedArgs(root, "t1"));
    assert.equal(first.code, 0, first.stderr);
    const indexed = await runLedger(["rebuild-index", "--root", root]);
    assert.equal(indexed.code, 0, indexed.stderr);
    const part = todaysPart(root);
    await Deno.writeTextFile(part, UNTERMINATED, { append: true });

    const r = await runLedger(["note", "--root", root, "t1", "after", "--no-index"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "noted t1\n");
    assert.equal(
      r.stderr,
      `ledger note: removed ${UNTERMINATED.length} bytes of a torn last line from ${part} ` +
        "(a writer killed mid-line, or a line appended without its newline)\n",
    );
  });
});

/**
 * Longest the test holds the part's lock waiting for the notice (due 2 s
 * after the child asks for the lock; its start may be slow on a busy
 * machine), in ms: well before the 60 s limit.
 */
const NOTICE_WAIT_MS_MAX = 8_000;

Deno.test("emit audit: an emit waiting for a shared part's lock says so after 2 s, then writes", async () => {
  await withTempDir(async (root) => {
    const first = await runLedger(runCreatedArgs(root, "t1"));
    assert.equal(first.code, 0, first.stderr);
    const part = todaysPart(root);
    // A holder in this process: its own open file description, so the child's lock waits.
    const holder = await Deno.open(part, { read: true, write: true });
    let held = true;
    let child: Deno.ChildProcess | undefined;
    let exited = false;
    try {
      await holder.lock(true);
      child = new Deno.Command(Deno.execPath(), {
        args: denoScriptArgs(CLI_PATH, noteArgs(root, "t1", "blocked")),
        cwd: REPO_ROOT,
        env: { LEDGER_ROOT: "" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const said = new LineCollector(child.stderr);
      const startMs = performance.now();
      await said.waitFor(1, NOTICE_WAIT_MS_MAX);
      const saidAfterMs = performance.now() - startMs;
      assert.equal(said.lines.length, 1, "one notice while the lock is held");
      assert.match(
        said.lines[0],
        /^ledger emit: waited \d+ ms for the lock of (.+): another ledger emit or tag holds it while it appends \(a stopped or hung one holds it until it ends\); still waiting, up to 60000 ms in all$/,
      );
      assert.ok(said.lines[0].includes(`for the lock of ${part}: `), said.lines[0]);
      const waitedMs = Number(/waited (\d+) ms/.exec(said.lines[0])![1]);
      assert.ok(waitedMs >= 2_000 && waitedMs < 3_000, `noticed after ${waitedMs} ms`);
      assert.ok(saidAfterMs >= 2_000, `said after ${saidAfterMs} ms`);
      holder.close(); // releases the lock: the emit goes on
      held = false;
      const [status, stdout] = await Promise.all([
        child.status,
        new Response(child.stdout).text(),
        said.done,
      ]);
      exited = true;
      assert.equal(status.code, 0, said.lines.join("\n"));
      assert.equal(stdout.trim().split("\n").length, 1, "one id");
      assert.equal(said.lines.length, 1, "nothing more said");
    } finally {
      if (held) holder.close();
      if (child !== undefined && !exited) {
        child.kill("SIGKILL");
        await child.status;
      }
    }
    const text = await Deno.readTextFile(part);
    assert.ok(text.includes('"note":"blocked"'), "the waiting emit wrote its event");
  });
});
