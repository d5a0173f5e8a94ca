/**
 * Strict flag parsing with the rules and messages of `node:util`'s
 * `parseArgs` (`strict: true`), without loading `node:util`: importing it
 * costs a `ledger emit` process about 0.4x of an empty `deno run` (issue 16's
 * cold start). `tests/cli/parse_args_test.ts` runs both on one table of
 * command lines and requires the same values, positionals and error text.
 *
 * Rules: `--name value` and `--name=value` for string flags (a separate value
 * that starts with `-`, other than `-` itself, is refused as ambiguous);
 * `--name` for booleans (`--name=x` is refused); `-x` short aliases, grouped
 * booleans (`-hv`) and `-ovalue`; `--` ends the flags; a repeated flag keeps
 * its last value unless `multiple` (`node:util`'s rule; the commands' own
 * `parseFlags` in `_args.ts` collects the values and refuses the repeat).
 *
 * @module
 */

/** One flag of a {@linkcode FlagSpec}. */
export interface FlagOption {
  /** `string` takes a value; `boolean` does not. */
  type: "string" | "boolean";
  /** A one-letter alias (`-v`). */
  short?: string;
  /** Collect every occurrence in an array. @default {false} */
  multiple?: boolean;
  /** The value when the flag is absent. */
  default?: string | boolean | string[] | boolean[];
}

/** Flags by long name. */
export type FlagSpec = Record<string, FlagOption>;

/** What {@linkcode parseArgsStrict} returns. */
export interface ParsedArgs {
  /** Flag values by long name (absent flags have no key). */
  values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  /** Arguments that are not flags, in order. */
  positionals: string[];
}

/**
 * The command line does not fit the spec. The message is the one
 * `node:util`'s `parseArgs` gives.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { ArgsError, parseArgsStrict } from "./_parse_args.ts";
 * assert.throws(() => parseArgsStrict(["--nope"], {}, false), ArgsError);
 * ```
 */
export class ArgsError extends TypeError {
  /** Create the error. */
  constructor(message: string) {
    super(message);
    this.name = "ArgsError";
  }
}

/**
 * Parse `args` strictly against `spec`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseArgsStrict } from "./_parse_args.ts";
 * const spec = { limit: { type: "string" }, verbose: { type: "boolean", short: "v" } } as const;
 * const { values, positionals } = parseArgsStrict(["-v", "--limit=5", "r1"], spec, true);
 * assert.deepEqual({ ...values }, { verbose: true, limit: "5" });
 * assert.deepEqual(positionals, ["r1"]);
 * ```
 */
export function parseArgsStrict(
  args: readonly string[],
  spec: FlagSpec,
  allowPositionals: boolean,
): ParsedArgs {
  const values: ParsedArgs["values"] = Object.create(null);
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, option] of Object.entries(spec)) {
    if (option.short !== undefined) byShort.set(option.short, name);
  }
  const store = (name: string, value: string | boolean) => {
    if (spec[name].multiple === true) {
      const list = (values[name] as (string | boolean)[] | undefined) ?? [];
      list.push(value);
      values[name] = list;
    } else {
      values[name] = value;
    }
  };
  const positional = (arg: string) => {
    if (!allowPositionals) {
      throw new ArgsError(
        `Unexpected argument '${arg}'. This command does not take positional arguments`,
      );
    }
    positionals.push(arg);
  };
  let i = 0;
  while (i < args.length) {
    const arg = args[i++];
    if (arg === "--") {
      for (const rest of args.slice(i)) positional(rest);
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      const option = Object.hasOwn(spec, name) ? spec[name] : undefined;
      if (option === undefined) throw unknown(`--${name}`, allowPositionals);
      if (option.type === "boolean") {
        if (eq !== -1) {
          throw new ArgsError(`Option '${label(name, option)}' does not take an argument`);
        }
        store(name, true);
      } else if (eq !== -1) {
        store(name, arg.slice(eq + 1));
      } else {
        store(name, takeValue(args, i++, name, option, false));
      }
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") {
      i = shortGroup(args, i, arg, spec, byShort, store, allowPositionals);
      continue;
    }
    positional(arg);
  }
  for (const [name, option] of Object.entries(spec)) {
    if (option.default !== undefined && values[name] === undefined) {
      values[name] = option.default as string | boolean | (string | boolean)[];
    }
  }
  return { values, positionals };
}

/** Parse one `-abc` argument (at `args[i - 1]`); returns the index of the next argument. */
function shortGroup(
  args: readonly string[],
  i: number,
  arg: string,
  spec: FlagSpec,
  byShort: ReadonlyMap<string, string>,
  store: (name: string, value: string | boolean) => void,
  allowPositionals: boolean,
): number {
  for (let k = 1; k < arg.length; k++) {
    const letter = arg[k];
    const name = byShort.get(letter);
    if (name === undefined) throw unknown(`-${letter}`, allowPositionals);
    const option = spec[name];
    if (option.type === "boolean") {
      store(name, true);
      continue;
    }
    if (k + 1 < arg.length) {
      store(name, arg.slice(k + 1)); // -ovalue
      return i;
    }
    store(name, takeValue(args, i, name, option, true));
    return i + 1;
  }
  return i;
}

function takeValue(
  args: readonly string[],
  i: number,
  name: string,
  option: FlagOption,
  asShort: boolean,
): string {
  const value = args[i];
  if (value === undefined) throw new ArgsError(`Option '${label(name, option)}' argument missing`);
  if (value.length > 1 && value.startsWith("-")) {
    const used = asShort ? `-${option.short}` : `--${name}`;
    const fix = asShort ? `'--${name}=-XYZ' or '-${option.short}-XYZ'` : `'--${name}=-XYZ'`;
    throw new ArgsError(
      `Option '${used}' argument is ambiguous.\n` +
        `Did you forget to specify the option argument for '${used}'?\n` +
        `To specify an option argument starting with a dash use ${fix}.`,
    );
  }
  return value;
}

/** How `node:util` names a flag in its messages: `-o, --out <value>`. */
function label(name: string, option: FlagOption): string {
  const short = option.short === undefined ? "" : `-${option.short}, `;
  return `${short}--${name}${option.type === "string" ? " <value>" : ""}`;
}

function unknown(flag: string, allowPositionals: boolean): ArgsError {
  const hint = allowPositionals
    ? ". To specify a positional argument starting with a '-', place it at the end of the " +
      `command after '--', as in '-- ${JSON.stringify(flag)}`
    : "";
  return new ArgsError(`Unknown option '${flag}'${hint}`);
}
