/**
 * An environment variable whose value is not valid UTF-8 is the user's bad
 * input: one line naming the variable, exit 2. A probe: `LEDGER_ROOT` so set
 * gave every command an 8-line `Uncaught (in promise) InvalidData` stack
 * trace; `COLUMNS` so set failed `ledger runs` with `environment variable
 * was not valid unicode: "\xFF"`, naming no variable; `AWS_ENDPOINT_URL_S3`
 * so set was read as unset, and `ship` went to another endpoint (AWS
 * itself, or here `AWS_ENDPOINT_URL`).
 *
 * `Deno.Command` takes environment values as strings, so the raw bytes go
 * through `bash`, whose `printf` writes them.
 *
 * @module
 */
import assert from "node:assert/strict";
import { CLI_PATH, denoScriptArgs, runLedger, withTempDir } from "../_helpers.ts";

/** Deno's cache directory, as this process has it (`deno info`). */
const DENO_DIR: string = JSON.parse(
  new TextDecoder().decode(
    (await new Deno.Command(Deno.execPath(), { args: ["info", "--json"], stderr: "null" }).output())
      .stdout,
  ),
).denoDir;

/**
 * Run `ledger ARGS` with variable `name` set to the bytes `printfValue`
 * stands for (a `printf` format: `/tmp/\xff`) and `env` besides, in `cwd`.
 */
async function runWithRawVariable(
  cwd: string,
  name: string,
  printfValue: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string }> {
  const script = 'export "$1"="$(printf "$2")"; shift 2; exec "$@"';
  const out = await new Deno.Command("bash", {
    args: [
      "-c",
      script,
      "bash",
      name,
      printfValue,
      Deno.execPath(),
      ...denoScriptArgs(CLI_PATH, args),
    ],
    // Deno's own cache stays where it is: with HOME not UTF-8 (a step below), Deno would take a
    // cache under a relative path of that name, in the working directory.
    env: { LEDGER_ROOT: "", COLUMNS: "80", DENO_DIR: DENO_DIR, ...env },
    cwd, // a test's folder: nothing of a step's lands in the repository
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("an environment variable that is not UTF-8 is one line naming it, exit 2", async (t) => {
  await withTempDir(async (root) => {
    const emitted = await runLedger([
      ...["emit", "--root", root, "--event-type", "run.created", "--run-id", "e1"],
      ...["--run-type", "t", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    assert.equal(emitted.code, 0, emitted.stderr);

    for (const command of [["runs"], ["show", "e1"], ["verify"]]) {
      await t.step(`LEDGER_ROOT: ledger ${command[0]}`, async () => {
        const r = await runWithRawVariable(root, "LEDGER_ROOT", "/tmp/\\xff", command);
        assert.equal(
          r.stderr,
          `ledger ${
            command[0]
          }: Environment variable LEDGER_ROOT is not valid UTF-8: "/tmp/\\xFF"\n`,
        );
        assert.equal(r.code, 2);
      });
    }

    await t.step("LEDGER_ROOT with --root given: unread, another error stays itself", async () => {
      const r = await runWithRawVariable(root, "LEDGER_ROOT", "/tmp/\\xff", [
        ...["runs", "--root", `${root}/missing`],
      ]);
      assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
      assert.match(r.stderr, /^ledger runs: .*missing/);
      assert.doesNotMatch(r.stderr, /LEDGER_ROOT|unicode|Uncaught/);
      assert.equal(r.code, 1);
    });

    await t.step("COLUMNS: ledger runs", async () => {
      const built = await runLedger(["rebuild-index", "--root", root]);
      assert.equal(built.code, 0, built.stderr);
      const r = await runWithRawVariable(root, "COLUMNS", "\\xff", ["runs", "--root", root]);
      assert.equal(
        r.stderr,
        'ledger runs: Environment variable COLUMNS is not valid UTF-8: "\\xFF"\n',
      );
      assert.equal(r.code, 2);
    });

    for (
      const name of [
        "AWS_ENDPOINT_URL_S3",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN", // the SDK reads it itself (a second review)
        "HOME",
      ]
    ) {
      await t.step(`${name}: ledger ship, never another endpoint`, async () => {
        // Read as unset, the S3 endpoint falls back to AWS_ENDPOINT_URL (or AWS itself without
        // it): here a port nothing listens on, so that mistake fails at once, not after retries.
        const env: Record<string, string> = {
          AWS_ENDPOINT_URL: "http://127.0.0.1:1",
          AWS_ENDPOINT_URL_S3: "http://127.0.0.1:1",
          AWS_ACCESS_KEY_ID: "k",
          AWS_SECRET_ACCESS_KEY: "s",
          AWS_REGION: "us-east-1",
        };
        delete env[name];
        const r = await runWithRawVariable(root, name, "http://\\xff", [
          ...["ship", "--root", root, "--to", "s3://bkt/p", "--once"],
        ], env);
        // A credential's value is never shown (a review: the secret key was printed whole).
        const shown = /KEY|TOKEN/.test(name) ? "" : `: "http://\\xFF"`;
        assert.equal(
          r.stderr,
          `ledger ship: Environment variable ${name} is not valid UTF-8${shown}\n`,
        );
        assert.equal(r.code, 2);
      });
    }
  });
});
