/**
 * Two habits of command-line users: `ledger --root DIR COMMAND` (the root
 * before the command's name) and a listing piped into `head`, whose early
 * exit closes the pipe: the command stops quietly with exit 0, not with
 * "Broken pipe" and exit 1.
 */
import { strictEqual as equal } from "node:assert/strict";
import { CLI_PATH, denoScriptArgs, runLedger } from "../_helpers.ts";

Deno.test("ledger --root DIR COMMAND reads DIR like COMMAND --root DIR", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-root-first-" });
  try {
    const emit = await runLedger([
      "--root",
      root,
      "emit",
      "--event-type",
      "run.created",
      "--run-id",
      "first",
      "--run-type",
      "policy",
      "--config",
      "{}",
      "--data-fingerprint",
      "fp",
    ]);
    equal(emit.code, 0, emit.stderr);
    equal((await runLedger([`--root=${root}`, "rebuild-index"])).code, 0);
    const runs = await runLedger(["--root", root, "runs", "--format", "jsonl"]);
    equal(runs.code, 0, runs.stderr);
    equal(JSON.parse(runs.stdout).run_id, "first");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("a closed standard output ends the command quietly with exit 0", async () => {
  const root = await Deno.makeTempDir({ prefix: "ledger-pipe-" });
  try {
    const emit = await runLedger([
      "emit",
      "--root",
      root,
      "--event-type",
      "run.created",
      "--run-id",
      "p1",
      "--run-type",
      "policy",
      "--config",
      "{}",
      "--data-fingerprint",
      "fp",
    ]);
    equal(emit.code, 0, emit.stderr);
    equal((await runLedger(["rebuild-index", "--root", root])).code, 0);
    // 2M rows of CSV: far more than a pipe holds, so the writer meets the closed end.
    const child = new Deno.Command(Deno.execPath(), {
      args: denoScriptArgs(CLI_PATH, [
        "sql",
        "--root",
        root,
        "--format",
        "csv",
        "SELECT range AS n FROM range(2000000)",
      ]),
      env: { LEDGER_ROOT: "" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const reader = child.stdout.getReader();
    const first = await reader.read();
    equal(first.done, false);
    await reader.cancel(); // what `head` does once it has its line
    const stderr = new TextDecoder().decode(
      (await new Response(child.stderr).arrayBuffer()) as ArrayBuffer,
    );
    const status = await child.status;
    equal(stderr, "");
    equal(status.code, 0);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
