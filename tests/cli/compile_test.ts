/**
 * `deno task compile`: the failure messages when the runtime base (denort)
 * is missing or wrong, and, when a base is available, the compiled binary
 * itself (`--version`, an emit, a rebuild, `runs`).
 *
 * @module
 */
import { match, ok, strictEqual as equal } from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import {
  compiledPermissions,
  CompileError,
  findRuntimeBase,
  type RuntimeBase,
} from "../../scripts/compile.ts";

const PROJECT_DIR = new URL("../../", import.meta.url).pathname;
const COMPILE_SCRIPT = new URL("../../scripts/compile.ts", import.meta.url).pathname;
/** A closed local port: any download through this proxy fails at once. */
const DEAD_PROXY = "http://127.0.0.1:9";

async function runBase(): Promise<{ base?: RuntimeBase; why?: string }> {
  try {
    const base = await findRuntimeBase();
    if (base.source === "download") {
      return {
        base,
        why: `no runtime base: DENORT_BIN is not set and ${base.path} is not cached; ` +
          "set DENORT_BIN to denort " +
          `${Deno.version.deno} for ${Deno.build.target} to run this test`,
      };
    }
    return { base };
  } catch (err) {
    if (err instanceof CompileError) return { why: err.message };
    throw err;
  }
}

const { base, why } = await runBase();
if (why !== undefined) {
  console.log(`compile_test: skipping "the compiled binary runs": ${why}`);
}

async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; clearDenort?: boolean } = {},
) {
  const env: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...options.env };
  if (options.clearDenort) delete env.DENORT_BIN;
  const out = await new Deno.Command(command, {
    args,
    cwd: options.cwd ?? PROJECT_DIR,
    env,
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("deno task compile says what is wrong with the runtime base", async (t) => {
  await t.step("DENORT_BIN names a missing file", async () => {
    const r = await run(Deno.execPath(), ["task", "compile"], {
      env: { DENORT_BIN: "/nonexistent/denort" },
    });
    equal(r.code, 1);
    match(
      r.stderr,
      /deno task compile: DENORT_BIN=\/nonexistent\/denort does not exist or is not a file\. Fix: /,
    );
  });
  await t.step("DENORT_BIN names the deno CLI instead of denort", async () => {
    const r = await run(Deno.execPath(), ["task", "compile"], {
      env: { DENORT_BIN: Deno.execPath() },
    });
    equal(r.code, 1);
    match(r.stderr, /is the deno CLI, not the denort runtime base/);
  });
  await t.step("--help prints the usage; an unknown flag is one line, exit 2", async () => {
    // It was an uncaught TypeError with a stack trace (a docs audit).
    const help = await run(Deno.execPath(), ["task", "-q", "compile", "--help"]);
    equal(help.code, 0, help.stderr);
    match(help.stdout, /^Usage: deno task compile \[--output PATH\]/);
    // 80 columns, as every ledger command's (a review: one line of 115).
    const wide = help.stdout.split("\n").filter((line) => [...line].length > 80);
    equal(wide.join("\n"), "");
    const bad = await run(Deno.execPath(), ["task", "-q", "compile", "--bogus"]);
    equal(bad.code, 2);
    equal(bad.stderr.trim(), "deno task compile: Unknown option '--bogus'");
  });
  await t.step("an --output the task may not write is refused before building", async () => {
    // A docs walk: OPERATIONS showed --output /tmp/ledger, which built the binary and then
    // could not copy libduckdb.so beside it (the task writes only under dist/).
    const r = await run(Deno.execPath(), [
      "task",
      "-q",
      "compile",
      "--output",
      "/nonexistent-ledger-dir/ledger",
      "--no-self-extracting",
    ]);
    equal(r.code, 2, r.stderr);
    match(
      r.stderr,
      /^deno task compile: --output \/nonexistent-ledger-dir\/ledger is outside dist\/, the only folder the task may write: give --output dist\/NAME/,
    );
  });
  await t.step({
    name: "no DENORT_BIN and the download fails",
    ignore: base?.source !== "download",
    fn: async () => {
      const r = await run(Deno.execPath(), ["task", "compile"], {
        env: { HTTPS_PROXY: DEAD_PROXY, HTTP_PROXY: DEAD_PROXY, NO_PROXY: "" },
        clearDenort: true,
      });
      equal(r.code, 1);
      match(
        r.stderr,
        new RegExp(
          `deno task compile: Cannot get the runtime base for deno compile ` +
            `\\(denort ${Deno.version.deno} for ${Deno.build.target}\\): ` +
            `Deno could not download it .* and DENORT_BIN is not set\\. ` +
            `Fix: set DENORT_BIN to a denort binary of version ${Deno.version.deno} `,
        ),
      );
      equal(r.stdout, "");
    },
  });
});

Deno.test({
  name: "the compiled binary runs: --version, emit, rebuild-index, runs",
  ignore: why !== undefined,
  fn: async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "ledger_compile_" });
    const binary = `${dir}/ledger`;
    const root = `${dir}/root`;
    try {
      await t.step("deno task compile builds it", async () => {
        const r = await run(Deno.execPath(), [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-run",
          COMPILE_SCRIPT,
          "--output",
          binary,
        ]);
        equal(r.code, 0, r.stderr);
        match(r.stdout, /built /);
      });
      await t.step("--version", async () => {
        const r = await run(binary, ["--version"], { cwd: dir });
        equal(r.code, 0, r.stderr);
        equal(r.stdout.trim(), `ledger ${denoJson.version}`);
      });
      await t.step("emit", async () => {
        const r = await run(binary, [
          "emit",
          "--root",
          root,
          "--event-type",
          "run.created",
          "--run-id",
          "compiled-1",
          "--run-type",
          "path-only",
          "--config",
          "{}",
          "--data-fingerprint",
          "fp",
        ], { cwd: dir });
        equal(r.code, 0, r.stderr);
        ok(r.stdout.trim().length > 0, "emit prints the event id");
      });
      await t.step("rebuild-index (loads DuckDB's addon)", async () => {
        const r = await run(binary, ["rebuild-index", "--root", root], { cwd: dir });
        equal(r.code, 0, r.stderr);
      });
      await t.step("runs", async () => {
        const r = await run(binary, ["runs", "--root", root, "--json"], { cwd: dir });
        equal(r.code, 0, r.stderr);
        match(r.stdout, /compiled-1/);
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// A probe: the binary (SPEC 1's program for servers) had no network, so it could run none of
// SPEC 14's commands. Its permissions are checked here without denort: the same flags, given to
// `deno run` of the same program.
Deno.test("the compiled binary's permissions let ship reach a bucket, and --no-net's do not", async (t) => {
  const root = await Deno.makeTempDir({ prefix: "ledger_compile_net_" });
  try {
    const cli = `${PROJECT_DIR}cli/ledger.ts`;
    const emitted = await run(Deno.execPath(), [
      ...["run", "-A", cli, "emit", "--root", root, "--event-type", "run.created"],
      ...["--run-id", "n1", "--run-type", "t", "--config", "{}", "--data-fingerprint", "f"],
    ]);
    equal(emitted.code, 0, emitted.stderr);
    const env = {
      AWS_ACCESS_KEY_ID: "k",
      AWS_SECRET_ACCESS_KEY: "s",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: DEAD_PROXY, // a closed port: the request is refused at once
    };
    const ship = (network: boolean) =>
      run(Deno.execPath(), [
        ...["run", "--no-prompt", ...compiledPermissions(undefined, { network }), cli],
        ...["ship", "--to", "s3://bkt/p", "--once", "--root", root],
      ], { env });
    await t.step("the default binary gets as far as the endpoint", async () => {
      const r = await ship(true);
      equal(r.code, 1, r.stderr);
      match(r.stderr, /^ledger ship: Cannot reach s3:\/\/bkt at http:\/\/127\.0\.0\.1:9: /);
    });
    await t.step("--no-net's binary is refused before it sends anything", async () => {
      const r = await ship(false);
      equal(r.code, 1, r.stderr);
      match(r.stderr, /^ledger ship: missing permissions --allow-env /);
    });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
