/**
 * The permission check `ledger` runs before a subcommand starts: each command
 * declares what it needs (read/write on the ledger root, FFI for DuckDB, git
 * for provenance, ...), this module asks `Deno.permissions.query` (never
 * `request`: it must not prompt) and turns whatever is missing into the exact
 * flags to add, so a scoped `deno run` fails at once with one line instead of
 * deep inside the writer or DuckDB.
 *
 * DuckDB writes its files from native code, which Deno's permission checks do
 * not see: checking write access to the root here is what keeps
 * `rebuild-index --root /elsewhere` inside the granted scope.
 *
 * @module
 */

import { readEnvVariable, ROOT_DEFAULT, ROOT_ENV_VARIABLE } from "../ledger/paths.ts";
import denoJson from "../deno.json" with { type: "json" };
import { dirname, join } from "../ledger/_path.ts";
export { ROOT_DEFAULT, ROOT_ENV_VARIABLE };

/**
 * One permission a subcommand needs before it starts.
 *
 * - `{ name: "read" | "write", path: "root" }`: access to the ledger root.
 * - `{ name: "read" | "write", flag: "db" }`: access to the path given by a
 *   flag (`--db PATH`), checked only when the flag is present, or, with
 *   `defaultPath`, the path the command reads when it is absent; with
 *   `folder: true`, to the folder holding it (a command that writes a
 *   temporary file or a lock beside it); with `throughLinks: true`, of the
 *   file the path's symbolic links lead to (a command that renames a new
 *   file over that file: `--out`); with `defaultIfGranted: true`, the
 *   default path is read only when the process may (dual mode's legacy
 *   file: a process not granted it has no dual mode), so it is not asked for.
 * - `{ name: "ffi" }`: loading DuckDB's native addon.
 * - `{ name: "run", command: "git" }`: running a program.
 * - `{ name: "env", variable: "X" }`, `{ name: "sys", kind: "hostname" }`.
 *
 * Reading `LEDGER_ROOT` is implied for every command that uses the root and
 * is not given `--root`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import type { PermissionNeed } from "./_permissions.ts";
 * const emit: PermissionNeed[] = [
 *   { name: "read", path: "root" },
 *   { name: "write", path: "root" },
 * ];
 * assert.equal(emit.length, 2);
 * ```
 */
export type PermissionNeed =
  | { name: "read" | "write"; path: "root" }
  | {
    name: "read" | "write";
    flag: string;
    folder?: boolean;
    throughLinks?: boolean;
    defaultPath?: string;
    defaultIfGranted?: boolean;
  }
  | { name: "ffi" }
  | { name: "run"; command: string }
  | { name: "env"; variable: string }
  | { name: "sys"; kind: Deno.SysPermissionDescriptor["kind"] };

/** What `emit` needs (the command table and `ledger_emit.ts` share it). */
export const EMIT_NEEDS: readonly PermissionNeed[] = [
  { name: "read", path: "root" },
  { name: "write", path: "root" },
];

/** What `rebuild-index` needs (the command table and the backtest's background refresh share it). */
export const REBUILD_INDEX_NEEDS: readonly PermissionNeed[] = [
  { name: "read", path: "root" },
  { name: "write", path: "root" },
  // The rebuild writes its copy and its lock beside the index file.
  { name: "read", flag: "db", folder: true },
  { name: "write", flag: "db", folder: true },
  { name: "ffi" },
];

/**
 * What the indexer's liveness check uses when it may (`ps` and the host
 * name; reading `/proc` needs `--allow-all` in Deno 2.9, so it is not
 * asked for): without them the check is skipped, not failed.
 */
export const LIVENESS_NEEDS: readonly PermissionNeed[] = [
  { name: "run", command: "ps" },
  { name: "sys", kind: "hostname" },
];

/**
 * A path cannot be put in an `--allow-*=` list as is: Deno splits the list
 * at commas (there is no escape), so `a,/elsewhere` would grant two paths.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { UnsafePermissionPathError } from "./_permissions.ts";
 * const err = new UnsafePermissionPathError("/tmp/a,b");
 * assert.match(err.message, /contains a comma/);
 * ```
 */
export class UnsafePermissionPathError extends Error {
  /** The path. */
  readonly path: string;
  /** Create the error for `path`. */
  constructor(path: string) {
    super(
      `${JSON.stringify(path)} contains a comma, which a deno --allow-* list cannot hold ` +
        "(it would grant two paths)",
    );
    this.name = "UnsafePermissionPathError";
    this.path = path;
  }
}

/** Options for {@linkcode grantFlags}. */
export interface GrantFlagsOptions {
  /** The path granted for `path: "root"` needs. */
  root: string;
  /** Values of path flags (`db`, `calls`, ...); needs of absent flags grant nothing. @default {{}} */
  flags?: Record<string, string | undefined>;
  /** The directory holding `node_modules` (FFI is scoped to it). @default {the project's} */
  nodeModulesDir?: string;
}

/**
 * The `--allow-*` flags that grant exactly `needs` (the other side of
 * {@linkcode missingPermissions}): each path scoped, FFI scoped to
 * `node_modules`, programs and variables by name, one flag per kind.
 * Throws {@linkcode UnsafePermissionPathError} for a path Deno would split.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { grantFlags, REBUILD_INDEX_NEEDS } from "./_permissions.ts";
 * const flags = grantFlags(REBUILD_INDEX_NEEDS, { root: ".", nodeModulesDir: "/app/node_modules" });
 * assert.deepEqual(flags, ["--allow-read=.", "--allow-write=.", "--allow-ffi=/app/node_modules"]);
 * ```
 */
export function grantFlags(needs: readonly PermissionNeed[], options: GrantFlagsOptions): string[] {
  const lists = new Map<string, string[]>();
  const add = (kind: string, value: string) => {
    if (value.includes(",")) throw new UnsafePermissionPathError(value);
    const list = lists.get(kind) ?? [];
    if (!list.includes(value)) list.push(value);
    lists.set(kind, list);
  };
  for (const need of needs) {
    switch (need.name) {
      case "read":
      case "write": {
        const path = "path" in need
          ? options.root
          : flagPath(need, options.flags?.[need.flag] ?? need.defaultPath);
        if (path !== undefined) add(need.name, path);
        break;
      }
      case "ffi":
        add("ffi", options.nodeModulesDir ?? defaultNodeModulesDir());
        break;
      case "run":
        add("run", need.command);
        break;
      case "env":
        add("env", need.variable);
        break;
      case "sys":
        if (need.kind !== undefined) add("sys", need.kind);
        break;
    }
  }
  return [...lists].map(([kind, values]) => `--allow-${kind}=${values.join(",")}`);
}

/** Options for {@linkcode missingPermissions}. */
export interface MissingPermissionsOptions {
  /**
   * The directory that holds `node_modules` (DuckDB's addon lives below it).
   * FFI counts as granted when it is granted for all paths or for this one.
   * @default {the project directory of this module}
   */
  nodeModulesDir?: string;
}

/**
 * Return the `--allow-*` flags (one per missing permission, in the order of
 * `needs`) that `args` would need for a subcommand declaring `needs`. An
 * empty array means everything is granted. Uses `Deno.permissions.query`
 * only, so it never prompts.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { missingPermissions, type PermissionNeed } from "./_permissions.ts";
 * const needs: PermissionNeed[] = [
 *   { name: "write", path: "root" },
 *   { name: "run", command: "git" },
 * ];
 * const flags = await missingPermissions(["--root", "data/ledger"], needs);
 * // The doc tests run with --allow-write --allow-run: nothing is missing.
 * assert.deepEqual(flags, []);
 * // Under `deno run --allow-read=data` the same call returns
 * // ["--allow-write=data/ledger", "--allow-run=git"].
 * ```
 */
export async function missingPermissions(
  args: string[],
  needs: readonly PermissionNeed[],
  options: MissingPermissionsOptions = {},
): Promise<string[]> {
  const missing: string[] = [];
  const add = (flag: string) => {
    if (!missing.includes(flag)) missing.push(flag);
  };
  const usesRoot = needs.some((need) => "path" in need);
  let root: string | undefined = flagValue(args, "root");
  // `--root ""` is a usage error the subcommand reports; there is no path to check.
  if (root === "") return missing;
  if (usesRoot && root === undefined) {
    if (await granted({ name: "env", variable: ROOT_ENV_VARIABLE })) {
      root = readEnvVariable(ROOT_ENV_VARIABLE) || ROOT_DEFAULT;
    } else {
      add(`--allow-env=${ROOT_ENV_VARIABLE}`);
      root = ROOT_DEFAULT;
    }
  }
  for (const need of needs) {
    const flag = await missingFlag(need, args, root ?? ROOT_DEFAULT, options);
    if (flag !== undefined) add(flag);
  }
  return missing;
}

/** Options for {@linkcode permissionMessage}. */
export interface PermissionMessageOptions {
  /** The `deno task` that runs this command with the right permissions. @default {"ledger"} */
  task?: string;
  /** Whether this is the compiled binary (permissions are fixed at compile time). @default {Deno.build.standalone} */
  standalone?: boolean;
}

/**
 * The one line `ledger` prints when permissions are missing.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { permissionMessage } from "./_permissions.ts";
 * const line = permissionMessage("emit", ["--allow-write=/srv/ledger"], {
 *   task: "emit",
 *   standalone: false,
 * });
 * assert.equal(
 *   line,
 *   "ledger emit: missing permission --allow-write=/srv/ledger; deno task emit reads and " +
 *     "writes only under data/; keep the paths there or add it to a deno run command " +
 *     "(deno run --no-prompt --allow-write=/srv/ledger ... cli/ledger.ts emit)",
 * );
 * ```
 */
export function permissionMessage(
  command: string,
  flags: readonly string[],
  options: PermissionMessageOptions = {},
): string {
  const noun = flags.length === 1 ? "permission" : "permissions";
  const them = flags.length === 1 ? "it" : "them";
  const standalone = options.standalone ?? isStandalone();
  const task = options.task ?? "ledger";
  const pathsOnly = flags.every((f) => /^--allow-(read|write)=/.test(f));
  const readsOnly = flags.every((f) => f.startsWith("--allow-read="));
  // --no-prompt: DuckDB's loader and its default memory limit probe files and the CPU count
  // they do without; in a terminal Deno would ask about each (an audit: three prompts).
  const deno = `a deno run command (deno run --no-prompt ${
    flags.join(" ")
  } ... cli/ledger.ts ${command})`;
  // Some tasks read anywhere (backtest's inputs; rebuild-index, daemon and ship read the
  // SDK's config files): they write only under data/ (a probe: the hint said "reads and
  // writes only under data/" of deno task rebuild-index).
  const readsAnything = taskGrants(task, "--allow-read=/");
  const fix = standalone
    ? `this binary was compiled without ${them}; rebuild it with deno task compile ` +
      `(see docs/OPERATIONS.md) or use a root inside the compiled scope`
    : pathsOnly && readsOnly && readsAnything && task !== "ledger"
    ? `use deno task ${task}, which reads any input file, or add ${them} to ${deno}`
    : pathsOnly
    ? `deno task ${task} ${scopeOf(task, readsAnything)} only under data/; ` +
      `keep the paths there or add ${them} to ${deno}`
    : flags.some((f) => !taskGrants(task, f))
    ? `deno task ${task} does not grant ${them} either: add ${them} to ${deno}`
    : `add ${them} to the deno run command or use deno task ${task}`;
  return `ledger ${command}: missing ${noun} ${flags.join(" ")}; ${fix}`;
}

/** What a task does under data/: a read-only task (runs, show, ...) only reads there. */
function scopeOf(task: string, readsAnything: boolean): string {
  if (readsAnything) return "writes";
  return taskGrants(task, "--allow-write=data") ? "reads and writes" : "reads";
}

/**
 * The hint after Deno's own "Requires ... access" message (a permission a
 * command's needs did not foresee): the task when it grants the permission,
 * else the flag to add, so that a user already running the task is not sent
 * back to it.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { notCapableHint } from "./_permissions.ts";
 * const message = 'Requires net access to "0.0.0.0:8080", run again with the --allow-net flag';
 * assert.equal(
 *   notCapableHint("ui", message, "ui"),
 *   "deno task ui does not grant it: add --allow-net=0.0.0.0:8080 to a deno run command " +
 *     "(deno run --no-prompt --allow-net=0.0.0.0:8080 ... cli/ledger.ts ui)",
 * );
 * // A message that names its flags: the task only when it grants them (ledger's has no network).
 * assert.match(
 *   notCapableHint("rebuild-index", "missing permission --allow-net=s3:443 to reach the bucket",
 *     "ledger"),
 *   /^deno task ledger does not grant it either: add it to a deno run command/,
 * );
 * assert.equal(
 *   notCapableHint("rebuild-index", "missing permission --allow-net=s3:443 to reach the bucket",
 *     "rebuild-index"),
 *   "or use deno task rebuild-index",
 * );
 * ```
 */
export function notCapableHint(command: string, message: string, task: string): string {
  const m = /Requires (\w+) access to "([^"]+)"/.exec(message);
  if (m === null) {
    // Our own message naming the flags (the bucket's: --allow-net=HOST:PORT...): the task
    // is a way out only when it grants every one (an audit: rebuild-index --from was sent
    // to deno task rebuild-index, which has no network).
    const named = [...message.matchAll(/--allow-[a-z]+(?:=[^\s;,()]+)?/g)].map((f) => f[0]);
    if (named.length > 0 && named.some((f) => !taskGrants(task, f))) {
      return `deno task ${task} does not grant ${named.length === 1 ? "it" : "them"} either: ` +
        `add ${named.length === 1 ? "it" : "them"} to a deno run command ` +
        `(deno run --no-prompt ${named.join(" ")} ... cli/ledger.ts ${command}; ` +
        "docs/OPERATIONS.md)";
    }
    return `or use deno task ${task}`;
  }
  const flag = `--allow-${m[1]}=${m[2]}`;
  if (taskGrants(task, flag)) return `or use deno task ${task}`;
  return `deno task ${task} does not grant it: add ${flag} to a deno run command ` +
    `(deno run --no-prompt ${flag} ... cli/ledger.ts ${command})`;
}

/**
 * Whether `deno task <task>` of deno.json grants `flag` (`--allow-x` or
 * `--allow-x=value`): the task has the flag unscoped, or a scope that holds
 * the value (a path under one of its paths, a host of its hosts).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { taskGrants } from "./_permissions.ts";
 * assert.equal(taskGrants("ui", "--allow-net=127.0.0.1:8080"), true);
 * assert.equal(taskGrants("ui", "--allow-net=0.0.0.0:8080"), false);
 * assert.equal(taskGrants("runs", "--allow-env=AWS_REGION"), false);
 * assert.equal(taskGrants("rebuild-index", "--allow-env=AWS_REGION"), true);
 * ```
 */
export function taskGrants(task: string, flag: string, cwd: string = Deno.cwd()): boolean {
  const command = (denoJson.tasks as Record<string, string>)[task];
  const want = /^--allow-([a-z]+)(?:=(.*))?$/.exec(flag);
  if (command === undefined || want === null) return false;
  const [, kind, value] = want;
  for (const token of command.split(/\s+/)) {
    if (token === "-A" || token === "--allow-all") return true;
    const has = /^--allow-([a-z]+)(?:=(.*))?$/.exec(token);
    if (has === null || has[1] !== kind) continue;
    if (has[2] === undefined) return true; // the whole kind
    // DuckDB's addon is all a command asks --allow-ffi for; the tasks scope it to node_modules.
    if (value === undefined) return kind === "ffi";
    const scopes = has[2].split(",");
    if (kind === "read" || kind === "write" || kind === "ffi") {
      const absolute = (p: string) => p.startsWith("/") ? join(p) : join(cwd, p);
      const path = absolute(value);
      return scopes.some((s) => {
        const base = absolute(s);
        return path === base || path.startsWith(base.endsWith("/") ? base : `${base}/`);
      });
    }
    if (kind === "net") {
      const host = value.replace(/:\d+$/, "");
      return scopes.some((s) => s === value || s === host);
    }
    return scopes.includes(value);
  }
  return false;
}

async function missingFlag(
  need: PermissionNeed,
  args: string[],
  root: string,
  options: MissingPermissionsOptions,
): Promise<string | undefined> {
  switch (need.name) {
    case "read":
    case "write": {
      const given = "path" in need ? undefined : flagValue(args, need.flag);
      if (!("path" in need) && given === undefined && need.defaultIfGranted === true) {
        return undefined;
      }
      let value = "path" in need ? undefined : given ?? need.defaultPath;
      if (value !== undefined && "throughLinks" in need && need.throughLinks === true) {
        value = await linkedPath(value);
      }
      // A folder given where a file goes (`--out data`): the command refuses it in one line,
      // exit 2, where asking for the folder holding it sent the user to grant the whole
      // checkout (a probe: `deno task export ... --out data` asked for --allow-write=.).
      if (!("path" in need) && need.folder === true && await isFolder(value)) return undefined;
      const path = "path" in need ? root : flagPath(need, value);
      if (path === undefined) return undefined;
      const ok = await granted({ name: need.name, path });
      return ok ? undefined : `--allow-${need.name}=${path}`;
    }
    case "ffi": {
      if (await granted({ name: "ffi" })) return undefined;
      const dir = options.nodeModulesDir ?? defaultNodeModulesDir();
      if (await granted({ name: "ffi", path: dir })) return undefined;
      return "--allow-ffi";
    }
    case "run":
      if (await granted(need)) return undefined;
      // Deno resolves `--allow-run=git` on PATH when it starts: a program that is not there
      // (no git on the machine) is never granted, and the command does without it (git
      // provenance is null). Asking for the flag sent `deno task backtest` users to itself.
      return onPath(need.command) ? `--allow-run=${need.command}` : undefined;
    case "env":
      return await granted(need) ? undefined : `--allow-env=${need.variable}`;
    case "sys":
      return await granted(need) ? undefined : `--allow-sys=${need.kind}`;
  }
}

/** Most symbolic links followed from a flag's path (Linux's own limit). */
const LINK_HOPS_MAX = 40;

/**
 * The path `path`'s symbolic links lead to (the command writes there: see
 * `linkTargetOf` of `ledger/real_path.ts`, which this follows without its
 * imports, on emit's path), or `path` where a link cannot be read here.
 */
async function linkedPath(path: string): Promise<string> {
  let current = path;
  for (let hops = 0; hops < LINK_HOPS_MAX; hops++) {
    let target: string;
    try {
      if (!(await Deno.lstat(current)).isSymlink) return current;
      target = await Deno.readLink(current);
    } catch (err) {
      // Not there, or not ours to look at: the command's own checks say what is wrong.
      if (isUnreadable(err)) return current;
      throw err;
    }
    // A relative target is read from the folder the link is in, really (`..` there), as the
    // write resolves it (linkTargetOf); where that cannot be read here, as written.
    current = target.startsWith("/") ? target : join(await realFolder(dirname(current)), target);
  }
  return current;
}

/** The real path of `folder`, or `folder` where it cannot be resolved here. */
async function realFolder(folder: string): Promise<string> {
  try {
    return await Deno.realPath(folder);
  } catch (err) {
    if (isUnreadable(err)) return folder;
    throw err;
  }
}

/**
 * Whether `err`, thrown by a look at a path, says there is nothing this
 * process can look at there: missing, under a file, not permitted, a loop of
 * links, a name too long.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isUnreadable } from "./_permissions.ts";
 * assert.ok(isUnreadable(new Deno.errors.NotFound("x")));
 * assert.ok(!isUnreadable(new TypeError("x")));
 * ```
 */
export function isUnreadable(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory ||
    err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied ||
    // A path too long or through a loop of links (a bad-input probe: an uncaught stack trace
    // for such an --out): the command's own checks say so in one line.
    err instanceof Deno.errors.FilesystemLoop ||
    (err instanceof Error && (err as { code?: unknown }).code === "ENAMETOOLONG");
}

/** Whether `path` is a directory this process may look at. */
async function isFolder(path: string | undefined): Promise<boolean> {
  if (path === undefined || path === "") return false;
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (err) {
    if (isUnreadable(err)) return false;
    throw err;
  }
}

/** The path a flag's need is about: the flag's value, or the folder holding it. */
function flagPath(
  need: { flag: string; folder?: boolean },
  value: string | undefined,
): string | undefined {
  if (value === undefined || value === "" || need.folder !== true) return value;
  return dirname(value);
}

/**
 * Whether `command` is a program on PATH, asked without permission to run it
 * (nor to read PATH): Deno looks the program up before it checks the
 * permission, so spawning it fails with NotFound when it is missing and
 * NotCapable when it is there.
 */
function onPath(command: string): boolean {
  try {
    const child = new Deno.Command(command, { stdin: "null", stdout: "null", stderr: "null" })
      .spawn();
    child.kill(); // not reached without the permission; if it is, the program is there
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    if (err instanceof Deno.errors.NotCapable) return true;
    throw err;
  }
}

async function granted(descriptor: Deno.PermissionDescriptor): Promise<boolean> {
  const status = await Deno.permissions.query(descriptor);
  return status.state === "granted";
}

/**
 * The value of `--name VALUE` or `--name=VALUE` in `args` (the last one wins,
 * as in `parseArgs`), or `undefined`. The subcommand parses its flags
 * strictly later; this only needs the paths.
 */
function flagValue(args: string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") break;
    if (arg === `--${name}` && i + 1 < args.length) value = args[++i];
    else if (arg.startsWith(`--${name}=`)) value = arg.slice(name.length + 3);
  }
  return value;
}

function defaultNodeModulesDir(): string {
  return new URL("../node_modules", import.meta.url).pathname;
}

function isStandalone(): boolean {
  return Deno.build.standalone;
}
