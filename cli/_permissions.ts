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

import { ROOT_DEFAULT, ROOT_ENV_VARIABLE } from "../ledger/paths.ts";
export { ROOT_DEFAULT, ROOT_ENV_VARIABLE };

/**
 * One permission a subcommand needs before it starts.
 *
 * - `{ name: "read" | "write", path: "root" }`: access to the ledger root.
 * - `{ name: "read" | "write", flag: "db" }`: access to the path given by a
 *   flag (`--db PATH`), checked only when the flag is present.
 * - `{ name: "ffi" }`: loading DuckDB's native addon.
 * - `{ name: "run", command: "git" }`: running a program.
 * - `{ name: "env", variable: "X" }`, `{ name: "sys", kind: "hostname" }`.
 *
 * Reading `LEDGER_ROOT` is implied for every command that uses the root and
 * is not given `--root`.
 *
 * @example
 * ```ts
 * import type { PermissionNeed } from "./_permissions.ts";
 * const emit: PermissionNeed[] = [
 *   { name: "read", path: "root" },
 *   { name: "write", path: "root" },
 * ];
 * console.assert(emit.length === 2);
 * ```
 */
export type PermissionNeed =
  | { name: "read" | "write"; path: "root" }
  | { name: "read" | "write"; flag: string }
  | { name: "ffi" }
  | { name: "run"; command: string }
  | { name: "env"; variable: string }
  | { name: "sys"; kind: Deno.SysPermissionDescriptor["kind"] };

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
 * ```ts ignore
 * import { missingPermissions } from "./_permissions.ts";
 * // run with: deno run --allow-read=data cli/_permissions.ts
 * const flags = await missingPermissions(["--root", "data/ledger"], [
 *   { name: "write", path: "root" },
 * ]);
 * console.log(flags); // ["--allow-write=data/ledger"]
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
      root = Deno.env.get(ROOT_ENV_VARIABLE) || ROOT_DEFAULT;
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
 * import { permissionMessage } from "./_permissions.ts";
 * const line = permissionMessage("emit", ["--allow-write=data/ledger"], {
 *   task: "emit",
 *   standalone: false,
 * });
 * console.assert(line ===
 *   "ledger emit: missing permission --allow-write=data/ledger; " +
 *     "add it to the deno run command or use deno task emit");
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
  const fix = standalone
    ? `this binary was compiled without ${them}; rebuild it with deno task compile ` +
      `(see docs/OPERATIONS.md) or use a root inside the compiled scope`
    : `add ${them} to the deno run command or use deno task ${options.task ?? "ledger"}`;
  return `ledger ${command}: missing ${noun} ${flags.join(" ")}; ${fix}`;
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
      const path = "path" in need ? root : flagValue(args, need.flag);
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
      return await granted(need) ? undefined : `--allow-run=${need.command}`;
    case "env":
      return await granted(need) ? undefined : `--allow-env=${need.variable}`;
    case "sys":
      return await granted(need) ? undefined : `--allow-sys=${need.kind}`;
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
