/**
 * Shared argument parsing for the `ledger` subcommands: a thin layer over
 * `_parse_args.ts` (`node:util`'s `parseArgs` rules, without its import
 * cost) that turns its errors into {@linkcode UsageError}s with one-line
 * messages, and resolves the ledger root.
 *
 * @module
 */
import { messageValue } from "../ledger/control_text.ts";
import { ArgsError, type FlagOption, type FlagSpec, parseArgsStrict } from "./_parse_args.ts";
import { resolveRoot } from "../ledger/paths.ts";
import { dirname, join } from "../ledger/_path.ts"; // not node:path: emit's cold start
import { fileOnPath } from "../ledger/exists.ts";
import {
  InvalidMemoryLimitError,
  parseMemoryLimit,
  REBUILD_MEMORY_LIMIT_MIN_BYTES,
} from "../indexer/memory_limit.ts";

/** Exit code of a command that succeeded. */
export const EXIT_OK = 0;
/** Exit code of a command that failed at run time (bad data, I/O, a failed rebuild). */
export const EXIT_FAILURE = 1;
/** Exit code of a command called wrongly (unknown flag, missing or malformed value). */
export const EXIT_USAGE = 2;

/**
 * The command line was wrong: an unknown flag, a missing value, a value that
 * does not parse. The message is one line and names the flag.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { UsageError } from "./_args.ts";
 * const err = new UsageError("--limit must be a positive integer, got \"x\"");
 * assert.equal(err.name, "UsageError");
 * ```
 */
export class UsageError extends Error {
  /** Create a usage error with a one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

export type { FlagOption, FlagSpec } from "./_parse_args.ts";

/** The parsed result of {@linkcode parseFlags}. */
export interface ParsedFlags {
  /** Flag values by long name. */
  values: Record<string, string | boolean | string[] | undefined>;
  /** Positional arguments, in order. */
  positionals: string[];
}

/** Options for {@linkcode parseFlags}. */
export interface ParseFlagsOptions {
  /** Allow positional arguments. @default {false} */
  allowPositionals?: boolean;
}

/**
 * Parse `args` strictly against `spec` (plus `--root` and `--help`, which
 * every command takes). Unknown flags and missing values become
 * {@linkcode UsageError}s naming the flag, and so does a flag that takes one
 * value given more than once (an audit: `emit ... --run-id a ... --run-id b`
 * wrote run b without a word, as `node:util`'s last-wins rule has it; a
 * wrapper script that appends its own flag must not win silently). Flags
 * declared `multiple` collect every value; a boolean flag given twice
 * (`--json --json`) means what it means once, and is accepted.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseFlags } from "./_args.ts";
 * const { values } = parseFlags(["--limit", "5"], { limit: { type: "string" } });
 * assert.equal(values.limit, "5");
 * assert.throws(
 *   () => parseFlags(["--limit", "5", "--limit=6"], { limit: { type: "string" } }),
 *   /^UsageError: --limit given twice/,
 * );
 * ```
 */
export function parseFlags(
  args: string[],
  spec: FlagSpec,
  options: ParseFlagsOptions = {},
): ParsedFlags {
  const full: FlagSpec = {
    root: { type: "string" },
    help: { type: "boolean", short: "h" },
    ...spec,
  };
  // Every value of a single-valued string flag is collected, so that a repeat can be refused.
  const collect = (option: FlagOption) =>
    singleValued(option) ? { ...option, multiple: true } : option;
  const collecting: FlagSpec = Object.fromEntries(
    Object.entries(full).map(([name, option]) => [name, collect(option)]),
  );
  let parsed: ReturnType<typeof parseArgsStrict>;
  try {
    parsed = parseArgsStrict(args, collecting, options.allowPositionals ?? false);
  } catch (err) {
    if (err instanceof ArgsError) throw new UsageError(ownWords(err.message));
    throw err;
  }
  const values = parsed.values as ParsedFlags["values"];
  for (const [name, option] of Object.entries(full)) {
    const value = values[name];
    if (!singleValued(option) || !Array.isArray(value)) continue; // absent, or its default
    if (value.length > 1) throw new UsageError(givenTwice(name, value.length));
    values[name] = value[0];
  }
  return { values, positionals: parsed.positionals };
}

/** A string flag not declared `multiple`: it takes one value. */
function singleValued(option: FlagOption): boolean {
  return option.type === "string" && option.multiple !== true;
}

/** The usage error of a single-valued flag given `count` (more than one) times. */
function givenTwice(name: string, count: number): string {
  const times = count === 2 ? "twice" : `${count} times`;
  return `--${name} given ${times}; it takes one value`;
}

/**
 * Return a string flag's value, or `undefined` when absent. An empty value
 * (`--run-id ""`) is kept: the caller decides whether it is valid.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { stringFlag } from "./_args.ts";
 * assert.equal(stringFlag({ a: "x" }, "a"), "x");
 * ```
 */
export function stringFlag(
  values: ParsedFlags["values"],
  name: string,
): string | undefined {
  const v = values[name];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw new UsageError(`--${name} needs a value`);
  return v;
}

/** Largest `--stale-after-hours` of `rebuild-index` and `daemon`: ten years. */
export const STALE_AFTER_HOURS_MAX = 10 * 366 * 24;
/** Largest `--interval` of `daemon` and `ship`: one day, in seconds. */
export const INTERVAL_SECONDS_MAX = 86_400;

/**
 * The grammar of every numeric flag: a number in decimal notation, with an
 * optional sign, digits with an optional fraction and exponent (`30`, `+5`,
 * `-0`, `1.5`, `.5`, `1e3`), blanks around it allowed. A JSON number is one.
 * `Number()` also reads `0x10`, `0b11`, `0o7` and `Infinity`: a typo or a
 * guess, not a decimal amount.
 */
const DECIMAL_NUMBER = /^\s*[+-]?(?<int>\d*)(?:\.(?<frac>\d*))?(?:e(?<exp>[+-]?\d+))?\s*$/i;

/**
 * The number `raw` writes in decimal notation (see the grammar above), or
 * undefined when it is not one or is not finite (`1e400`). `-0` is 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { decimalNumber } from "./_args.ts";
 * assert.equal(decimalNumber(" +1.5e1 "), 15);
 * assert.equal(Object.is(decimalNumber("-0"), 0), true);
 * assert.equal(decimalNumber("0x10") ?? decimalNumber("1e400") ?? decimalNumber("."), undefined);
 * ```
 */
export function decimalNumber(raw: string): number | undefined {
  return readDecimal(raw)?.n;
}

/** `raw` read by the decimal grammar: its finite value and its digits, or undefined. */
function readDecimal(
  raw: string,
): { n: number; int: string; frac: string; exp: string } | undefined {
  const m = DECIMAL_NUMBER.exec(raw);
  if (m === null) return undefined;
  const { int, frac = "", exp = "0" } = m.groups!;
  if (int === "" && frac === "") return undefined;
  const n = Number(raw.trim());
  return Number.isFinite(n) ? { n: n + 0, int, frac, exp } : undefined; // n + 0: -0 is 0
}

/**
 * The integer `raw` writes in decimal notation, when its exact value (read
 * from the digits, not from a rounded double) is a whole number a double
 * holds exactly: `5`, `+5`, `5.0`, `1e3` and `1.5e1` are, `1.5`, `1e-400`
 * (which `Number()` rounds to 0) and `9007199254740993` are not. The one
 * grammar of integer flags; `emit`'s integer fields take what the same
 * number takes in `--event` JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { decimalInteger } from "./_args.ts";
 * assert.equal(decimalInteger("1e12"), 1_000_000_000_000);
 * assert.equal(decimalInteger(" 00012 "), 12);
 * assert.equal(decimalInteger("1.5") ?? decimalInteger("1e-400") ?? decimalInteger("2e53"), undefined);
 * ```
 */
export function decimalInteger(raw: string): number | undefined {
  const read = readDecimal(raw);
  if (read === undefined || !Number.isSafeInteger(read.n)) return undefined;
  const { n, int, frac, exp } = read;
  // The digits after the point once the exponent has moved it must all be 0.
  const digits = (int + frac).replace(/^0+/, "");
  const fractionDigits = frac.length - Number(exp);
  if (digits === "" || fractionDigits <= 0) return n;
  return fractionDigits <= digits.length && /^0*$/.test(digits.slice(-fractionDigits))
    ? n
    : undefined;
}

/**
 * Whole milliseconds of a duration flag's `value` given in units of `unitMs`
 * (1000 for `--interval` seconds), at least 1: a value the flag accepts
 * ("> 0") never rounds to 0, which the daemon's options refuse (an audit:
 * `--interval 0.0001` exited 1 naming `intervalMs`). `rebuild-index` already
 * rounded `--stale-after-hours` this way.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { durationMs } from "./_args.ts";
 * assert.equal(durationMs(1.5, 1000), 1500); // 1.5 s
 * assert.equal(durationMs(0.0001, 1000), 1); // not 0
 * ```
 */
export function durationMs(value: number, unitMs: number): number {
  return Math.max(1, Math.round(value * unitMs));
}

/**
 * `--stale-after-hours H` of `rebuild-index` and `daemon` (with or without
 * `--from`) in whole milliseconds (at least 1), or undefined when not given;
 * a bad value is a usage error ({@linkcode positiveNumberFlag}, `unit` as
 * there).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { staleAfterMsFlag } from "./_args.ts";
 * assert.equal(staleAfterMsFlag({ "stale-after-hours": "1.5" }), 5_400_000);
 * assert.equal(staleAfterMsFlag({}), undefined);
 * assert.throws(() => staleAfterMsFlag({ "stale-after-hours": "0" }, "hours"), /a number of hours > 0/);
 * ```
 */
export function staleAfterMsFlag(
  values: ParsedFlags["values"],
  unit?: string,
): number | undefined {
  const hours = positiveNumberFlag(values, "stale-after-hours", STALE_AFTER_HOURS_MAX, unit);
  return hours === undefined ? undefined : durationMs(hours, 3_600_000);
}

/**
 * Parse a flag that must be a number > 0 and at most `max` (`--interval`,
 * `--stale-after-hours`); `unit` names what it counts in the message
 * ("a number of hours").
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { positiveNumberFlag, UsageError } from "./_args.ts";
 * assert.equal(positiveNumberFlag({ interval: "1.5" }, "interval", 60), 1.5);
 * assert.throws(
 *   () => positiveNumberFlag({ interval: "0" }, "interval", 60, "seconds"),
 *   new UsageError('--interval must be a number of seconds > 0 and <= 60, got "0"'),
 * );
 * ```
 */
export function positiveNumberFlag(
  values: ParsedFlags["values"],
  name: string,
  max: number,
  unit?: string,
): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const n = decimalNumber(raw);
  if (n === undefined || n <= 0 || n > max) {
    const what = unit === undefined ? "a number" : `a number of ${unit}`;
    throw new UsageError(`--${name} must be ${what} > 0 and <= ${max}, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/**
 * `--memory-limit SIZE` in the form DuckDB takes (`512MB`, `1.5GB`, `2GiB`),
 * or undefined when absent; a size DuckDB does not take is a usage error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { memoryLimitFlag } from "./_args.ts";
 * assert.equal(memoryLimitFlag({ "memory-limit": "1 gib" }), "1GiB");
 * assert.equal(memoryLimitFlag({}), undefined);
 * assert.throws(() => memoryLimitFlag({ "memory-limit": "lots" }), /--memory-limit "lots"/);
 * ```
 */
export function memoryLimitFlag(
  values: ParsedFlags["values"],
  bytesMin?: number,
): string | undefined {
  const raw = stringFlag(values, "memory-limit");
  if (raw === undefined) return undefined;
  try {
    return parseMemoryLimit(raw, bytesMin);
  } catch (err) {
    if (err instanceof InvalidMemoryLimitError) throw new UsageError(err.message);
    throw err;
  }
}

/**
 * {@linkcode memoryLimitFlag} of `rebuild-index` and `daemon`: at least
 * 128MB, below which DuckDB cannot rebuild even a small log.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { rebuildMemoryLimitFlag } from "./_args.ts";
 * assert.equal(rebuildMemoryLimitFlag({ "memory-limit": "256MB" }), "256MB");
 * assert.throws(() => rebuildMemoryLimitFlag({ "memory-limit": "64MB" }), /at least 128MB/);
 * ```
 */
export function rebuildMemoryLimitFlag(values: ParsedFlags["values"]): string | undefined {
  return memoryLimitFlag(values, REBUILD_MEMORY_LIMIT_MIN_BYTES);
}

/**
 * The warning `rebuild-index` prints when given both `--full` and
 * `--since-date` (a full rebuild reads every day, so the date changes
 * nothing), or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sinceDateIgnoredWarning } from "./_args.ts";
 * assert.match(
 *   sinceDateIgnoredWarning({ full: true, "since-date": "2026-01-02" })!,
 *   /--since-date 2026-01-02 is ignored with --full/,
 * );
 * assert.equal(sinceDateIgnoredWarning({ "since-date": "2026-01-02" }), undefined);
 * ```
 */
export function sinceDateIgnoredWarning(values: ParsedFlags["values"]): string | undefined {
  const sinceDate = stringFlag(values, "since-date");
  if (values.full !== true || sinceDate === undefined) return undefined;
  return `warning: --since-date ${sinceDate} is ignored with --full ` +
    `(a full rebuild reads every day)`;
}

/** Milliseconds in one unit of a duration flag ({@linkcode durationMsFlag}). */
export const DURATION_UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration flag's grammar: digits with an optional fraction, then an optional unit. */
const DURATION = /^(?<int>\d+)(?:\.(?<frac>\d+))?(?<unit>[smhd])?$/;

/**
 * A duration flag (`--max-entry-delay`) in whole milliseconds, or undefined
 * when not given: an integer is milliseconds (`90000`), a number with a
 * unit `s`, `m`, `h` or `d` (as the intervals write minutes: `5m`) is that
 * many of it (`90s`, `1.5h`, `30d`), computed from its digits, so `1.1h` is
 * exactly 3,960,000 ms. Anything else (a sign, blanks, an exponent, `ms`,
 * a fraction of a millisecond, more than a double holds exactly) is a
 * usage error naming the flag and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { durationMsFlag } from "./_args.ts";
 * assert.equal(durationMsFlag({ "max-entry-delay": "30d" }, "max-entry-delay"), 2_592_000_000);
 * assert.equal(durationMsFlag({ "max-entry-delay": "90000" }, "max-entry-delay"), 90_000);
 * assert.equal(durationMsFlag({ "max-entry-delay": "1.5h" }, "max-entry-delay"), 5_400_000);
 * assert.equal(durationMsFlag({}, "max-entry-delay"), undefined);
 * assert.throws(
 *   () => durationMsFlag({ "max-entry-delay": "5 min" }, "max-entry-delay"),
 *   /--max-entry-delay must be .* got "5 min"/,
 * );
 * ```
 */
export function durationMsFlag(values: ParsedFlags["values"], name: string): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const m = DURATION.exec(raw);
  const { int = "", frac = "", unit } = m?.groups ?? {};
  // Without a unit only whole milliseconds: "1.5" would be a fraction of one.
  if (m !== null && !(unit === undefined && frac !== "")) {
    const unitMs = BigInt(unit === undefined ? 1 : DURATION_UNIT_MS[unit as "s"]);
    const scaled = BigInt(int + frac) * unitMs;
    const per = 10n ** BigInt(frac.length);
    if (scaled % per === 0n && scaled / per <= BigInt(Number.MAX_SAFE_INTEGER)) {
      return Number(scaled / per);
    }
  }
  throw new UsageError(
    `--${name} must be a whole number of milliseconds or a number with a unit s, m, h or d ` +
      `(e.g. 90000, 90s, 5m, 1.5h, 30d), got ${JSON.stringify(raw)}`,
  );
}

/**
 * Parse a flag that must be an integer >= 1 (`--limit`, `--max-trials`);
 * see {@linkcode integerFlag}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { positiveIntegerFlag } from "./_args.ts";
 * assert.equal(positiveIntegerFlag({ limit: "20" }, "limit"), 20);
 * assert.throws(() => positiveIntegerFlag({ limit: "0" }, "limit"), /an integer >= 1, got "0"/);
 * assert.throws(() => positiveIntegerFlag({ limit: "x" }, "limit"), /an integer >= 1, got "x"/);
 * ```
 */
export function positiveIntegerFlag(
  values: ParsedFlags["values"],
  name: string,
): number | undefined {
  return integerFlag(values, name, { min: 1 });
}

/** Options for {@linkcode integerFlag}. */
export interface IntegerFlagOptions {
  /** The smallest value taken. @default {0} */
  min?: number;
  /** The largest value taken. @default {Number.MAX_SAFE_INTEGER} */
  max?: number;
}

/**
 * Parse a flag that must be an integer (`--port`, `--limit`): a number in
 * decimal notation whose value is a whole number ({@linkcode decimalInteger}:
 * `5`, `+5`, ` 5 `, `5.0` and `5e0` alike), from `min` to `max`. Every bad
 * value gets the same words: `--NAME must be an integer >= MIN[ and <= MAX],
 * got "RAW"` (the bound above is said when the flag has one or the value is
 * past it).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { integerFlag } from "./_args.ts";
 * assert.equal(integerFlag({ n: "3" }, "n"), 3);
 * assert.equal(integerFlag({ n: "+1e3" }, "n"), 1000);
 * assert.throws(() => integerFlag({ n: "1.5" }, "n"), /--n must be an integer >= 0, got "1.5"/);
 * assert.throws(() => integerFlag({ n: "9" }, "n", { max: 8 }), /an integer >= 0 and <= 8, got "9"/);
 * ```
 */
export function integerFlag(
  values: ParsedFlags["values"],
  name: string,
  options: IntegerFlagOptions = {},
): number | undefined {
  const raw = stringFlag(values, name);
  if (raw === undefined) return undefined;
  const { min = 0, max } = options;
  const n = decimalInteger(raw);
  if (n === undefined || n < min || n > (max ?? Number.MAX_SAFE_INTEGER)) {
    const past = max === undefined && (decimalNumber(raw) ?? 0) > Number.MAX_SAFE_INTEGER;
    const bound = max ?? (past ? Number.MAX_SAFE_INTEGER : undefined);
    const above = bound === undefined ? "" : ` and <= ${bound}`;
    throw new UsageError(
      `--${name} must be an integer >= ${min}${above}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/**
 * Resolve the ledger root: `--root` wins, then `LEDGER_ROOT`, then
 * `data/ledger` under the working directory.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { resolveRootFlag } from "./_args.ts";
 * assert.equal(resolveRootFlag({ root: "/tmp/x" }), "/tmp/x");
 * ```
 */
export function resolveRootFlag(values: ParsedFlags["values"]): string {
  const flag = pathFlag(values, "root");
  if (flag !== undefined) {
    if (flag === "") throw new UsageError("--root must not be empty");
    refuseRootPart(flag, "--root");
    return flag;
  }
  const root = textPath(resolveRoot());
  refuseRootPart(root, "the root");
  return root;
}

/**
 * The path flag `name` with its `..` read as text ({@linkcode textPath}),
 * or undefined when it is not given; "" as given (each command says so).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { pathFlag } from "./_args.ts";
 * assert.equal(pathFlag({ root: "lk/../E" }, "root"), "E");
 * assert.equal(pathFlag({}, "root"), undefined);
 * ```
 */
export function pathFlag(values: ParsedFlags["values"], name: string): string | undefined {
  const path = stringFlag(values, name);
  return path === undefined || path === "" ? path : textPath(path);
}

/**
 * `path` with its `..` read as text: `lk/../E` is the `E` beside `lk`,
 * whatever `lk` links to, as Deno reads every path under the permission
 * flags of its tasks and of the compiled binary. Under `deno run -A` Deno
 * hands `lk/../E` to the system, which goes through the link: a root so
 * named was one folder to the checks that pass it on and another to those
 * that join it with `events` (a review: `rebuild-index --root lk/../E`
 * said the root did not exist, under `-A` only, where `emit` had written
 * it). A path without `..` is returned as given.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { textPath } from "./_args.ts";
 * assert.equal(textPath("lk/../E"), "E");
 * assert.equal(textPath("/srv/x/../ledger"), "/srv/ledger");
 * assert.equal(textPath("data/ledger"), "data/ledger");
 * ```
 */
export function textPath(path: string): string {
  return path.split("/").includes("..") ? join(path) : path;
}

/** The folders of a ledger root that are not roots themselves. */
const ROOT_PARTS: ReadonlySet<string> = new Set(["events", "index", "artifacts"]);

/**
 * Refuse (a {@linkcode UsageError}) a root that is the `events/`, `index/`
 * or `artifacts/` folder of a ledger root (its parent holds a log): a probe
 * gave `--root ROOT/events`, and a backtest ran and completed into
 * `ROOT/events/events/` and `ROOT/events/artifacts/`, inside the log, where
 * no reader sees it (exit 0, and `verify` still said sound). `from` names
 * where the root came from.
 */
function refuseRootPart(root: string, from: string): void {
  // The root as an absolute path without a trailing slash (`data/ledger/events/`), through the
  // links of the part that exists: a link to ROOT/events, or a folder under it (ROOT/events/
  // day=2026-12-02), took writes no reader sees (a review: only the last name was looked at).
  let full: string;
  try {
    full = realPathOfExisting(
      join(root.startsWith("/") ? "" : Deno.cwd(), root).replace(/(?<=.)\/+$/, ""),
    );
  } catch (err) {
    if (!(err instanceof Deno.errors.FilesystemLoop)) throw err;
    throw new UsageError(`${from} ${messageValue(root)} is a loop of symbolic links`);
  }
  for (let folder = full; folder !== "/"; folder = dirname(folder)) {
    const part = folder.slice(folder.lastIndexOf("/") + 1);
    if (!ROOT_PARTS.has(part)) continue;
    const parent = dirname(folder);
    if (!holdsLog(join(parent, "events"))) continue;
    const which = folder === full ? `the ${part}/ folder` : `inside the ${part}/ folder`;
    throw new UsageError(
      `${from} ${messageValue(root)} is ${which} of the ledger root ` +
        `${messageValue(parent)}, not a root: give --root ${messageValue(parent)}`,
    );
  }
}

/**
 * `path` (absolute, normalized) with the links of its longest existing
 * prefix resolved; the rest as given. A prefix this command may not read
 * is kept as given.
 */
function realPathOfExisting(path: string): string {
  let rest = "";
  for (let prefix = path;; prefix = dirname(prefix)) {
    try {
      return join(Deno.realPathSync(prefix), rest);
    } catch (err) {
      if (!unreadable(err)) throw err;
      if (prefix === "/") return path;
      rest = join(prefix.slice(prefix.lastIndexOf("/") + 1), rest);
    }
  }
}

/**
 * Whether `dir` is a ledger's log folder: it holds the schema file the
 * writers keep there, or a `day=YYYY-MM-DD` folder (a log written by the
 * Python writer only). A folder it may not read or that is not there holds
 * none.
 */
function holdsLog(dir: string): boolean {
  try {
    if (existsSync(join(dir, "_schema.json"))) return true;
    for (const entry of Deno.readDirSync(dir)) {
      if (!/^day=\d{4}-\d{2}-\d{2}$/.test(entry.name)) continue;
      // A linked day folder is a day the readers read (`isDayFolder` of ledger/parts.ts).
      if (entry.isDirectory || (entry.isSymlink && isDirectorySync(join(dir, entry.name)))) {
        return true;
      }
    }
    return false;
  } catch (err) {
    // No log folder there, or none this command may read: nothing says it is one.
    if (unreadable(err)) return false;
    throw err;
  }
}

/** Whether `path` is a directory, through its links (a stat this command may not make says no). */
function isDirectorySync(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch (err) {
    if (unreadable(err)) return false;
    throw err;
  }
}

/** Whether `path` exists (a stat this command may not make says no). */
function existsSync(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch (err) {
    if (unreadable(err)) return false;
    throw err;
  }
}

/** Errors of a path that is not there or may not be read. */
function unreadable(err: unknown): boolean {
  return err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory ||
    err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied;
}

function firstLine(message: string): string {
  return message.split("\n")[0];
}

/**
 * The parser's errors (`node:util`'s words) in ledger's words: its hint about positionals
 * after `--` names a syntax ledger's commands do not document, and a value that starts
 * with a dash (`--port -1`) is "ambiguous" in a first line that says neither what to do
 * nor that the flag got no value.
 *
 * @example
 * ```ts ignore
 * // Not run by the doc tests: the function is not exported; the CLI tests check its words.
 * ownWords("Option '--port' argument is ambiguous.");
 * // "--port needs a value (one that starts with a dash is written --port=-VALUE)"
 * ```
 */
function ownWords(message: string): string {
  const hint = message.indexOf(". To specify a positional argument");
  const text = hint === -1 ? message : message.slice(0, hint);
  // Whole, not its first line: the token may hold a newline.
  const unknown = /^Unknown option '([^']*)'$/.exec(text);
  if (unknown !== null) return unknownFlag(unknown[1]);
  // As the commands that take arguments say it (issue 15.9: own messages only).
  const unexpected =
    /^Unexpected argument '([^]*)'\. This command does not take positional arguments$/
      .exec(text);
  if (unexpected !== null) {
    return `unexpected argument ${JSON.stringify(unexpected[1])} (this command takes flags only)`;
  }
  return firstLine(text)
    .replace(
      /^Option '(-\w|--[^']+)' argument is ambiguous\.$/,
      (_, flag: string) =>
        `${flag} needs a value (one that starts with a dash is written ${
          flag.startsWith("--") ? `${flag}=-VALUE` : `${flag}-VALUE`
        })`,
    )
    .replace(/^Option '(?:-\w, )?(--[^ ']+)(?: <value>)?' argument missing$/, "$1 needs a value");
}

/**
 * An unknown flag; a token that is no flag's name (a query opening with an
 * SQL comment, `-- c` and a newline) is quoted on one line, with the way to
 * pass it (after `--`), and so is a dash before no letter (a note
 * `"-5% drawdown"` reaches here as `-5`).
 */
function unknownFlag(flag: string): string {
  // A dash and no letter (`-5` of a note "-5% drawdown") is text, not a misspelled flag.
  if (/^-[^-\p{L}]/u.test(flag) && !/[\s\p{Cc}]/u.test(flag)) {
    return `unknown flag ${flag} (see --help; an argument that starts with a dash goes after --, ` +
      `as in -- "${flag}...")`;
  }
  if (!/[\s\p{Cc}]/u.test(flag)) return `unknown flag ${flag} (see --help)`;
  const quoted = JSON.stringify(flag);
  return `unknown flag ${quoted} (see --help; an argument that starts with a dash goes after --, ` +
    `as in -- ${quoted})`;
}

/**
 * The ledger root named by `--root` or `LEDGER_ROOT` does not exist. Commands
 * that would otherwise create an index there refuse, so a typo does not
 * silently become a new, empty ledger.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { RootNotFoundError } from "./_args.ts";
 * assert.match(new RootNotFoundError("/typo").message, /^Ledger root \/typo does not exist/);
 * assert.match(new RootNotFoundError("/f", "is not a directory").message, /\/f is not a directory/);
 * ```
 */
export class RootNotFoundError extends Error {
  /** The root that was asked for. */
  readonly root: string;
  /** Create the error for `root`, which does not exist or, with `what`, is that instead. */
  constructor(root: string, what?: string) {
    super(
      what === undefined
        ? `Ledger root ${
          messageValue(root)
        } does not exist (check --root / LEDGER_ROOT, or emit an event first)`
        : `Ledger root ${messageValue(root)} ${what} (check --root / LEDGER_ROOT)`,
    );
    this.name = "RootNotFoundError";
    this.root = root;
  }
}

/**
 * Throw {@linkcode RootNotFoundError} unless `root` is an existing directory.
 *
 * @example
 * ```ts
 * import { requireExistingRoot } from "./_args.ts";
 * await requireExistingRoot(Deno.cwd());
 * ```
 */
export async function requireExistingRoot(root: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(root);
  } catch (err) {
    if (err instanceof Deno.errors.NotADirectory) {
      throw new RootNotFoundError(root, `does not exist: ${await fileOnPath(root)} is a file`);
    }
    if (!(err instanceof Deno.errors.NotFound)) throw err;
    throw new RootNotFoundError(root);
  }
  // A file there was said to be missing (a help audit): say what it is.
  if (!info.isDirectory) throw new RootNotFoundError(root, "is not a directory");
}

/** Flags whose value is a path, never written into the log. */
const PATH_FLAGS: ReadonlySet<string> = new Set(["root", "db", "legacy-db"]);

/**
 * The first argument value (a flag's string, a positional) holding U+FFFD,
 * which is what bytes that are not UTF-8 in a command-line argument become:
 * a command that writes the value would write another one than given, in
 * silence (a probe). `where` names it (`--run-type`, `argument 2`), `message`
 * says so in one line. Paths (`--root`, `--db`, `--legacy-db`) are not
 * looked at: nothing writes them into the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { replacementCharacterIn } from "./_args.ts";
 * assert.equal(replacementCharacterIn({ note: "caf\u00e9" }, []), undefined);
 * const found = replacementCharacterIn({ root: "r" }, ["run-1", "k=caf\uFFFD"]);
 * assert.equal(found?.where, "argument 2");
 * assert.equal(replacementCharacterIn({ root: "r\uFFFD" }, []), undefined); // a path
 * assert.match(found?.message ?? "", /^argument 2 holds U\+FFFD \(character 6\)/);
 * ```
 */
export function replacementCharacterIn(
  values: ParsedFlags["values"],
  positionals: readonly string[],
): { where: string; value: string; message: string } | undefined {
  const given: [string, unknown][] = [
    // Not a path: a file may well be named so (a review), and nothing writes it into the log.
    ...Object.entries(values).filter(([name]) => !PATH_FLAGS.has(name))
      .map(([name, value]) => [`--${name}`, value] as [string, unknown]),
    ...positionals.map((value, i) => [`argument ${i + 1}`, value] as [string, unknown]),
  ];
  for (const [where, value] of given) {
    if (typeof value !== "string" || !value.includes("\uFFFD")) continue;
    const at = [...value].indexOf("\uFFFD") + 1;
    return {
      where,
      value,
      message: `${where} holds U+FFFD (character ${at}), which bytes that are not UTF-8 in an ` +
        "argument become: give the value as UTF-8",
    };
  }
  return undefined;
}
