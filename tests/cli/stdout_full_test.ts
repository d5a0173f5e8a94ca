/**
 * A failed write to standard output (`> /dev/full`) is said as such, in one
 * stderr line; a command whose effect is durable before it prints exits 0,
 * so a wrapper that retries on failure does not do the work twice; a
 * read-only command exits 1; `ledger --help`/`--version` print no stack
 * trace (audit 4, flags F3/F4).
 */
import { match, strictEqual as equal } from "node:assert/strict";
import { join } from "node:path";
import { denoScriptArgs, logText, REPO_ROOT, TEST_PERMISSIONS } from "../_helpers.ts";
import { runEvents } from "../backtest/_fixtures.ts";
import { runCommand } from "../../cli/_command.ts";

const CLI = join(REPO_ROOT, "cli/ledger.ts");
const EMIT_BUNDLE = join(REPO_ROOT, "cli/_emit_bundle/ledger_emit.js");
const FULL = "No space left on device";

/** Run `deno ARGS` with standard output on /dev/full (and `stdin` as its input). */
async function toFull(args: readonly string[], stdin = "") {
  const out = await new Deno.Command("sh", {
    args: ["-c", 'exec "$@" > /dev/full', "sh", Deno.execPath(), ...args],
    cwd: REPO_ROOT,
    env: { LEDGER_ROOT: "" },
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = out.stdin.getWriter();
  await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  const { code, stderr } = await out.output();
  const text = new TextDecoder().decode(stderr);
  const lines = text.trimEnd().split("\n");
  equal(lines.length, 1, `one stderr line expected, got: ${text}`);
  return { code, line: lines[0] };
}

Deno.test({
  name: "stdout on /dev/full: durable commands exit 0 saying so, readers exit 1",
  ignore: Deno.build.os !== "linux", // /dev/full
  async fn(t) {
    const root = await Deno.makeTempDir({ prefix: "ledger_full_" });
    const done = new RegExp(`: done, but standard output could not be written: ${FULL}`);
    try {
      await t.step("backtest: the run is completed, exit 0", async () => {
        const r = await toFull(denoScriptArgs(CLI, [
          "backtest",
          "path-only",
          "--root",
          root,
          "--no-index",
          "--run-id",
          "full-1",
        ]));
        equal(r.code, 0, r.line);
        match(r.line, /^ledger backtest/);
        match(r.line, done);
        equal((await runEvents(root, "full-1")).at(-1)?.event_type, "run.completed");
      });
      await t.step("emit: the event is written once, exit 0", async () => {
        const args = ["emit", "--root", root, "--event-type", "run.noted", "--run-id", "full-1"];
        const r = await toFull(denoScriptArgs(CLI, [...args, "--note", "hello"]));
        equal(r.code, 0, r.line);
        match(r.line, /^ledger emit/);
        match(r.line, done);
        equal((await logText(root)).split('"note":"hello"').length - 1, 1);
      });
      await t.step("emit --stdin and deno task emit's bundle: exit 0", async () => {
        const line = '{"event_type":"run.noted","run_id":"full-1","note":"batch"}\n';
        const r = await toFull(denoScriptArgs(CLI, ["emit", "--root", root, "--stdin"]), line);
        equal(r.code, 0, r.line);
        match(r.line, done);
        const bundled = await toFull([
          "run",
          "--no-prompt",
          ...TEST_PERMISSIONS,
          EMIT_BUNDLE,
          ...["--root", root, "--event-type", "run.noted", "--run-id", "full-1", "--note", "b"],
        ]);
        equal(bundled.code, 0, bundled.line);
        match(bundled.line, done);
        equal((await logText(root)).split('"note":"batch"').length - 1, 1);
      });
      await t.step(
        "a closed pipe: emit says its ids were not printed, --help stops quietly",
        async () => {
          // A probe: `ledger emit ... | (exec 0<&-; ...)` exited 0 with no word, its id lost.
          const closed = async (args: readonly string[]) => {
            const out = await new Deno.Command("bash", {
              args: [
                "-c",
                '"$@" | true; exit "${PIPESTATUS[0]}"',
                "bash",
                Deno.execPath(),
                ...args,
              ],
              cwd: REPO_ROOT,
              env: { LEDGER_ROOT: "" },
              stdin: "null",
              stdout: "null",
              stderr: "piped",
            }).output();
            return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
          };
          const emit = ["emit", "--root", root, "--event-type", "run.noted", "--run-id", "full-1"];
          const r = await closed(denoScriptArgs(CLI, [...emit, "--note", "piped"]));
          equal(r.code, 0, r.stderr);
          equal(
            r.stderr,
            "ledger emit: done, but standard output was closed before all was printed (broken pipe)\n",
          );
          equal((await logText(root)).split('"note":"piped"').length - 1, 1);
          const help = await closed(denoScriptArgs(CLI, ["emit", "--help"]));
          equal(help.code, 0, help.stderr);
          equal(help.stderr, "");
        },
      );
      await t.step("rebuild-index: published, exit 0", async () => {
        const r = await toFull(denoScriptArgs(CLI, ["rebuild-index", "--root", root]));
        equal(r.code, 0, r.line);
        match(r.line, done);
        equal((await Deno.stat(`${root}/index/runs.duckdb`)).isFile, true);
      });
      await t.step("export and report --out: the file is written, exit 0", async () => {
        // A differential audit: they exited 1 as if the file were not there.
        for (
          const args of [
            ["export", "runs", "--format", "csv", "--out", `${root}/runs.csv`],
            ["report", "-o", `${root}/report.html`],
          ]
        ) {
          const r = await toFull(denoScriptArgs(CLI, [...args, "--root", root]));
          equal(r.code, 0, r.line);
          match(r.line, done);
          equal((await Deno.stat(args.at(-1)!)).isFile, true);
        }
      });
      await t.step("runs, emit --help: exit 1, saying it was standard output", async () => {
        for (const args of [["runs", "--root", root], ["emit", "--help"]]) {
          const r = await toFull(denoScriptArgs(CLI, args));
          equal(r.code, 1, r.line);
          equal(
            r.line,
            `ledger ${args[0]}: standard output could not be written: ${FULL} (os error 28)`,
          );
        }
      });
      await t.step("ledger --help and --version: one line, exit 1", async () => {
        for (const flag of ["--help", "--version"]) {
          const r = await toFull(denoScriptArgs(CLI, [flag]));
          equal(r.code, 1, r.line);
          equal(r.line, `ledger: standard output could not be written: ${FULL} (os error 28)`);
        }
      });
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test("runCommand: only a durable command's stdout failure keeps its exit code", async (t) => {
  const { log, error } = console;
  const errors: string[] = [];
  const main = (code: number) => () => {
    console.log("result");
    return Promise.resolve(code);
  };
  try {
    console.log = () => {
      throw new Error("Input/output error (os error 5)");
    };
    console.error = (text: string) => errors.push(text);
    await t.step("durable, completed: exit 0, 'done, but'", async () => {
      const spec = { needs: [], load: () => Promise.resolve(main(0)), durableBeforeOutput: true };
      equal(await runCommand("demo", [], spec), 0);
      equal(
        errors.pop(),
        "ledger demo: done, but standard output could not be written: Input/output error (os error 5)",
      );
    });
    await t.step("durable, but --help: exit 1", async () => {
      const spec = { needs: [], load: () => Promise.resolve(main(0)), durableBeforeOutput: true };
      equal(await runCommand("demo", ["--help"], spec), 1);
      equal(
        errors.pop(),
        "ledger demo: standard output could not be written: Input/output error (os error 5)",
      );
    });
    await t.step("durable, for other arguments only: exit 1", async () => {
      const spec = {
        needs: [],
        load: () => Promise.resolve(main(0)),
        durableBeforeOutput: (args: readonly string[]) => args.includes("backfill"),
      };
      equal(await runCommand("demo", ["parity"], spec), 1);
      equal(errors.length, 1);
      equal(await runCommand("demo", ["backfill"], spec), 0);
      match(errors.pop()!, /^ledger demo: done, but/);
      errors.length = 0;
    });
    await t.step("durable, the run failed: its exit code, the stdout line", async () => {
      const spec = { needs: [], load: () => Promise.resolve(main(1)), durableBeforeOutput: true };
      equal(await runCommand("demo", [], spec), 1);
      equal(
        errors.pop(),
        "ledger demo: standard output could not be written: Input/output error (os error 5)",
      );
    });
  } finally {
    console.log = log;
    console.error = error;
  }
  equal(errors.length, 0, errors.join("\n"));
});
