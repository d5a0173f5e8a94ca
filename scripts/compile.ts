/**
 * `deno task compile`: build the `ledger` binary (`dist/ledger`) from
 * `cli/ledger.ts` with the permissions a server install needs, DuckDB's
 * native addon included.
 *
 * How the addon gets loaded: `deno compile` embeds `node_modules` (the
 * `duckdb.node` addon and the `libduckdb.so` it links against, found through
 * its `$ORIGIN` run path). Without `--self-extracting` a compiled program
 * copies only the `.node` file to a temporary directory, so `libduckdb.so` is
 * not found beside it. This script therefore compiles with
 * `--self-extracting` (the whole embedded tree is unpacked to
 * `<dir of binary>/.ledger/<hash>/` on first run, or under
 * `$XDG_DATA_HOME/ledger/` when that is not writable), and with
 * `--no-self-extracting` instead copies `libduckdb.so` to `dist/lib/` for use
 * with `LD_LIBRARY_PATH` (docs/OPERATIONS.md says what was verified).
 *
 * The runtime base (`denort`) is downloaded by Deno, or taken from the file
 * named by `DENORT_BIN`. When neither works this fails with one message that
 * says so and how to fix it.
 *
 * Usage: `deno task compile [--output PATH] [--data-dir DIR] [--no-self-extracting] [--no-net]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { basename, dirname, join, resolve } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { exists } from "../ledger/exists.ts";

/** The environment variable Deno reads for a local runtime base. */
export const DENORT_ENV_VARIABLE = "DENORT_BIN";
/** How long the smoke run of a fresh binary may take. */
const SMOKE_TIMEOUT_MS = 60_000;
/** The npm package holding DuckDB's addon for this platform (glibc Linux). */
const ADDON_PACKAGE = `@duckdb/node-bindings-${Deno.build.os}-${
  Deno.build.arch === "x86_64" ? "x64" : "arm64"
}`;

/**
 * The `--allow-*` flags baked into the binary. Read and write are unscoped
 * unless `dataDir` is given, because a server's ledger root is chosen at run
 * time (`--root`, `LEDGER_ROOT`); `ledger` checks them against the root at
 * start. FFI is unscoped because the addon is loaded from wherever the binary
 * unpacks it.
 *
 * With `network` (the default), what `ledger ui` and the bucket commands
 * (`ship`, `rebuild-index --from`, `daemon --from`) need, as their tasks
 * grant it: the network (the bucket's endpoint and the UI's address are
 * chosen at run time), every environment variable (the AWS SDK reads its
 * own: `AWS_*`, `HOME` for its config files) and the OS release (its user
 * agent). A probe: the binary, SPEC 1's program for servers, could run none
 * of SPEC 14's commands. Without it, the binary of 0.5.0: no network.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { compiledPermissions } from "./compile.ts";
 * assert.equal(compiledPermissions("/srv/l")[0], "--allow-read=/srv/l");
 * assert.ok(compiledPermissions().includes("--allow-net"));
 * assert.ok(compiledPermissions(undefined, { network: false }).includes("--allow-env=LEDGER_ROOT"));
 * ```
 */
export function compiledPermissions(
  dataDir?: string,
  { network = true }: { network?: boolean } = {},
): string[] {
  const scope = dataDir === undefined ? "" : `=${dataDir}`;
  return [
    `--allow-read${scope}`,
    `--allow-write${scope}`,
    ...(network ? ["--allow-env", "--allow-net"] : ["--allow-env=LEDGER_ROOT"]),
    "--allow-ffi",
    "--allow-run=git,ps",
    network ? "--allow-sys=hostname,osRelease" : "--allow-sys=hostname",
  ];
}

/**
 * The runtime base could not be had, or the built binary does not run. The
 * message is the whole explanation, fix included.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CompileError } from "./compile.ts";
 * assert.equal(new CompileError("x").name, "CompileError");
 * ```
 */
export class CompileError extends Error {
  /** Create a compile error with a message that says how to fix it. */
  constructor(message: string) {
    super(message);
    this.name = "CompileError";
  }
}

/** Where the runtime base comes from, as found by {@linkcode findRuntimeBase}. */
export interface RuntimeBase {
  /** `"env"`: `DENORT_BIN`; `"cache"`: Deno's download cache; `"download"`: not yet had. */
  source: "env" | "cache" | "download";
  /** The file (for `env` and `cache`), or the file Deno would download into its cache. */
  path: string;
}

/**
 * Find the runtime base `deno compile` will use: `DENORT_BIN` when set
 * (checked: it must exist and must not be the `deno` CLI itself, which would
 * make a binary that starts a REPL), else Deno's cached download, else
 * `source: "download"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { findRuntimeBase } from "./compile.ts";
 * const saved = Deno.env.get("DENORT_BIN");
 * Deno.env.delete("DENORT_BIN");
 * try {
 *   const base = await findRuntimeBase(); // Deno's cached denort, or "download" when not cached
 *   assert(base.source !== "env" && base.path.endsWith(`denort-${Deno.build.target}.zip`));
 * } finally {
 *   if (saved !== undefined) Deno.env.set("DENORT_BIN", saved);
 * }
 * ```
 */
export async function findRuntimeBase(): Promise<RuntimeBase> {
  const fromEnv = Deno.env.get(DENORT_ENV_VARIABLE);
  if (fromEnv) {
    await assertDenort(fromEnv);
    return { source: "env", path: fromEnv };
  }
  const cached = join(
    await denoDir(),
    "dl",
    "release",
    `v${Deno.version.deno}`,
    `denort-${Deno.build.target}.zip`,
  );
  return { source: await exists(cached, { isFile: true }) ? "cache" : "download", path: cached };
}

/** Options for {@linkcode compile}. */
export interface CompileOptions {
  /** The binary to write. @default {"dist/ledger"} */
  output?: string;
  /** Scope read and write to this directory instead of granting them everywhere. @default {undefined} */
  dataDir?: string;
  /** Unpack the embedded files on first run so the addon finds libduckdb.so. @default {true} */
  selfExtracting?: boolean;
  /** Grant the network ({@linkcode compiledPermissions}). @default {true} */
  network?: boolean;
}

/**
 * Compile `cli/ledger.ts` into a binary and smoke-test it (`--version`).
 * Throws {@linkcode CompileError} with the fix when the runtime base is
 * missing or the result does not run.
 *
 * @example
 * ```ts ignore
 * // not run as a test: writes a ~100 MB binary in tens of seconds, and may download denort
 * import { compile } from "./compile.ts";
 * await compile({ output: "dist/ledger" });
 * ```
 */
export async function compile(options: CompileOptions = {}): Promise<string> {
  const output = resolve(options.output ?? "dist/ledger");
  const selfExtracting = options.selfExtracting ?? true;
  const base = await findRuntimeBase();
  const args = [
    "compile",
    "--quiet",
    ...(selfExtracting ? ["--self-extracting"] : []),
    ...compiledPermissions(options.dataDir, { network: options.network ?? true }),
    "--output",
    output,
    "cli/ledger.ts",
  ];
  const out = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: projectDir(),
    stdin: "null",
    stdout: "inherit",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr);
    throw baseOrCompileError(stderr, base);
  }
  if (!selfExtracting) await copyAddonLibrary(output);
  await smokeTest(output);
  return output;
}

function baseOrCompileError(stderr: string, base: RuntimeBase): CompileError {
  const plain = stripAnsi(stderr);
  if (!/base binary|denort/i.test(plain)) {
    return new CompileError(`deno compile failed:\n${plain.trim()}`);
  }
  const cause =
    plain.split("\n").map((l) => l.trim()).find((l) =>
      /error sending request|dns error|Connect|No such file|not found/i.test(l)
    ) ?? plain.trim().split("\n")[0];
  const want = `denort ${Deno.version.deno} for ${Deno.build.target}`;
  const how = `set ${DENORT_ENV_VARIABLE} to a denort binary of version ${Deno.version.deno} ` +
    `for this platform (${Deno.build.target}; it is denort-${Deno.build.target}.zip of the ` +
    `Deno v${Deno.version.deno} release, unzipped) and run deno task compile again`;
  if (base.source === "env") {
    return new CompileError(
      `Cannot build with the runtime base ${DENORT_ENV_VARIABLE}=${base.path} (need ${want}): ` +
        `${cause}. Fix: ${how}.`,
    );
  }
  return new CompileError(
    `Cannot get the runtime base for deno compile (${want}): Deno could not download it ` +
      `(${cause.replace(/^\d+:\s*/, "")}) and ${DENORT_ENV_VARIABLE} is not set. Fix: ${how}.`,
  );
}

async function assertDenort(path: string): Promise<void> {
  if (!await exists(path, { isFile: true })) {
    throw new CompileError(
      `${DENORT_ENV_VARIABLE}=${path} does not exist or is not a file. Fix: point it to a denort ` +
        `binary of version ${Deno.version.deno} for ${Deno.build.target}, or unset it to let ` +
        `Deno download one.`,
    );
  }
  // The deno CLI answers --version; used as a base it yields a binary that
  // ignores the embedded program and starts a REPL.
  const out = await new Deno.Command(path, {
    args: ["--version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(SMOKE_TIMEOUT_MS),
  }).output();
  if (/^deno \d+\.\d+\.\d+/.test(new TextDecoder().decode(out.stdout))) {
    throw new CompileError(
      `${DENORT_ENV_VARIABLE}=${path} is the deno CLI, not the denort runtime base: a binary ` +
        `built on it starts a REPL instead of ledger. Fix: point it to denort ` +
        `${Deno.version.deno} for ${Deno.build.target} (denort-${Deno.build.target}.zip).`,
    );
  }
}

async function copyAddonLibrary(output: string): Promise<void> {
  const lib = await addonLibraryPath();
  const dest = join(dirname(output), "lib", "libduckdb.so");
  await Deno.mkdir(dirname(dest), { recursive: true });
  await Deno.copyFile(lib, dest);
  console.error(`copied ${lib} to ${dest}; run the binary with LD_LIBRARY_PATH=${dirname(dest)}`);
}

/** `libduckdb.so` inside `node_modules/.deno/<package>@<version>/node_modules/<package>/`. */
async function addonLibraryPath(): Promise<string> {
  const store = join(projectDir(), "node_modules", ".deno");
  const prefix = `${ADDON_PACKAGE.replace("/", "+")}@`;
  for await (const entry of Deno.readDir(store)) {
    if (!entry.isDirectory || !entry.name.startsWith(prefix)) continue;
    const lib = join(store, entry.name, "node_modules", ADDON_PACKAGE, "libduckdb.so");
    if (await exists(lib, { isFile: true })) return lib;
  }
  throw new CompileError(
    `Cannot find libduckdb.so of ${ADDON_PACKAGE} under ${store}; run deno install first`,
  );
}

async function smokeTest(output: string): Promise<void> {
  const out = await new Deno.Command(output, {
    args: ["--version"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(SMOKE_TIMEOUT_MS),
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const want = `ledger ${denoJson.version}`;
  if (!out.success || stdout !== want) {
    const stderr = new TextDecoder().decode(out.stderr).trim().split("\n")[0] ?? "";
    throw new CompileError(
      `The built ${basename(output)} does not run: \`${output} --version\` printed ` +
        `${JSON.stringify(stdout)} (want ${JSON.stringify(want)}), exit ${out.code}` +
        `${stderr ? `, stderr: ${stderr}` : ""}. Check that the runtime base is denort ` +
        `${Deno.version.deno} for ${Deno.build.target}.`,
    );
  }
}

/** Deno's own cache folder (`DENO_DIR`, as `deno info --json` reports it). */
export async function denoDir(): Promise<string> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new CompileError("Cannot find Deno's cache: deno info --json failed");
  return JSON.parse(new TextDecoder().decode(out.stdout)).denoDir;
}

function projectDir(): string {
  return new URL("../", import.meta.url).pathname;
}

function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** What `deno task compile --help` prints. */
const COMPILE_USAGE =
  `Usage: deno task compile [--output PATH] [--data-dir DIR] [--no-self-extracting]
                         [--no-net]

Build the ledger binary (default dist/ledger) from cli/ledger.ts, DuckDB's
addon included. --data-dir scopes its read and write permissions to DIR;
--no-net leaves out the network (and the environment but LEDGER_ROOT), which
ledger ui, ship, rebuild-index --from and daemon --from need;
--no-self-extracting copies libduckdb.so to lib/ beside the binary instead of
unpacking it on first run. The task writes only under dist/. The runtime
base comes from Deno's host or ${DENORT_ENV_VARIABLE}.
docs/OPERATIONS.md section 3 says more.

Exit codes: 0 built, 1 the build failed, 2 usage error.`;

if (import.meta.main) {
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        output: { type: "string" },
        "data-dir": { type: "string" },
        "no-self-extracting": { type: "boolean" },
        "no-net": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    // node:util's errors say "Unknown option '--x'..." in one line; no stack trace.
    if (!(err instanceof TypeError)) throw err;
    console.error(`deno task compile: ${err.message}`);
    Deno.exit(2);
  }
  if (values.help) {
    console.log(COMPILE_USAGE);
    Deno.exit(0);
  }
  // The task may write only under dist/ (--allow-write=dist): an --output elsewhere would build
  // the binary (deno compile runs as its own process) and then fail to copy libduckdb.so beside
  // it, or to be told where it went (a docs walk: the documented --output /tmp/ledger).
  const outputDir = dirname(resolve(values.output ?? "dist/ledger"));
  const write = await Deno.permissions.query({ name: "write", path: outputDir });
  if (write.state !== "granted") {
    console.error(
      `deno task compile: --output ${values.output} is outside dist/, the only folder the task ` +
        "may write: give --output dist/NAME and copy the result (with dist/lib/ for " +
        `--no-self-extracting), or run \`deno run --allow-read --allow-write=dist,${outputDir} ` +
        "--allow-env=DENORT_BIN --allow-run scripts/compile.ts ...\`",
    );
    Deno.exit(2);
  }
  try {
    const output = await compile({
      output: values.output,
      dataDir: values["data-dir"],
      selfExtracting: !values["no-self-extracting"],
      network: !values["no-net"],
    });
    console.log(`built ${output}`);
  } catch (err) {
    if (!(err instanceof CompileError)) throw err;
    console.error(`deno task compile: ${err.message}`);
    Deno.exit(1);
  }
}
