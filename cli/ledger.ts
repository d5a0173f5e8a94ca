/**
 * `ledger`: the one entry point of the command line (and of the compiled
 * binary). It only dispatches: each subcommand lives in its own module and is
 * imported lazily, so `ledger emit` never loads DuckDB or the backtest code.
 *
 * @module
 */
import { wrapText } from "./_wrap.ts";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./_args.ts";
import { EMIT_NEEDS, type PermissionNeed, REBUILD_INDEX_NEEDS } from "./_permissions.ts";
import { type CommandSpec, runCommand, StdoutWriteError } from "./_command.ts";
import denoJson from "../deno.json" with { type: "json" };

export type { CommandMain } from "./_command.ts";

interface Command extends CommandSpec {
  summary: string;
}

const READ_ROOT: PermissionNeed = { name: "read", path: "root" };
const WRITE_ROOT: PermissionNeed = { name: "write", path: "root" };
/** DuckDB's native addon. */
const FFI: PermissionNeed = { name: "ffi" };
/** Git provenance in run manifests. */
const RUN_GIT: PermissionNeed = { name: "run", command: "git" };

/**
 * `--legacy-db` of the commands that take a run (annotations, `compare`,
 * `trials`, `report`): their prefixes are checked against its runs. Without
 * the flag they read the default file when the process may (no permission
 * asked for it).
 */
const NAMED_LEGACY_DB: PermissionNeed = { name: "read", flag: "legacy-db" };

/** The annotation commands: read the index, append to the log, refresh the index. */
const ANNOTATE: readonly PermissionNeed[] = [
  READ_ROOT,
  WRITE_ROOT,
  { name: "read", flag: "db", folder: true },
  { name: "write", flag: "db", folder: true },
  NAMED_LEGACY_DB,
  FFI,
];
/**
 * `--out` of report and export: a temporary file is written beside the file it
 * names (through its links), then renamed over it.
 */
const OUT: readonly PermissionNeed[] = [
  { name: "read", flag: "out", folder: true, throughLinks: true },
  { name: "write", flag: "out", folder: true, throughLinks: true },
];
/**
 * The legacy DuckDB of `ledger legacy`: `--legacy-db`, else the default file
 * (the value of `DEFAULT_LEGACY_DB_PATH` in legacy/read.ts, which loads
 * DuckDB: not imported here; tests/cli/permission_advice_test.ts checks they
 * agree).
 */
const READ_LEGACY_DB: PermissionNeed = {
  name: "read",
  flag: "legacy-db",
  defaultPath: "data/baseline_results.duckdb",
};
/**
 * The legacy DuckDB of dual mode in `runs` and `show`: `--legacy-db`, else
 * the default file when the process may read it. A `deno run
 * --allow-read=ROOT` of `runs` has no dual mode; until 0.8.0 it refused to
 * start for want of a file it may not have (a review).
 */
const DUAL_MODE_LEGACY_DB: PermissionNeed = { ...READ_LEGACY_DB, defaultIfGranted: true };
/**
 * The inputs of `backtest` and `sweep`: `--calls`/`--candles`, else the
 * sample data (`SAMPLE_CALLS_PATH`/`SAMPLE_CANDLES_PATH` of
 * backtest/workflow.ts, not imported here: it loads the backtest code;
 * tests/cli/permission_advice_test.ts checks they agree). Advice without
 * them failed on the first read of the sample (an audit).
 */
const READ_INPUTS: readonly PermissionNeed[] = [
  { name: "read", flag: "calls", defaultPath: "data/sample/calls.csv" },
  { name: "read", flag: "candles", defaultPath: "data/sample/candles_1m.parquet" },
];
/** The query commands: read the index only. */
const QUERY: readonly PermissionNeed[] = [READ_ROOT, { name: "read", flag: "db" }, FFI];

/**
 * `report` and `export` with `--out` have written their file before they
 * print (a differential audit: exit 1 when only stdout failed, as if the
 * file were not there).
 */
function writesOut(args: readonly string[]): boolean {
  return args.some((a) => a === "--out" || a === "-o" || a.startsWith("--out=") || /^-o./.test(a));
}

/** `legacy backfill` (not `--dry-run`) and `legacy archive` change the ledger before they print. */
function legacyWrites(args: readonly string[]): boolean {
  const writes = args.includes("backfill") || args.includes("archive");
  return writes && !args.includes("--dry-run");
}

const COMMANDS: Record<string, Command> = {
  "emit": {
    summary: "append one event (or a JSONL batch with --stdin) to the log",
    needs: EMIT_NEEDS,
    durableBeforeOutput: true,
    load: async () => (await import("./emit.ts")).main,
  },
  "rebuild-index": {
    summary: "build or update the DuckDB index from the log",
    needs: REBUILD_INDEX_NEEDS,
    durableBeforeOutput: true,
    load: async () => (await import("./rebuild_index.ts")).main,
  },
  "daemon": {
    summary: "keep the index up to date, rebuilding when the log changes",
    needs: [
      READ_ROOT,
      WRITE_ROOT,
      { name: "read", flag: "db", folder: true },
      { name: "write", flag: "db", folder: true },
      FFI,
    ],
    load: async () => (await import("./daemon.ts")).main,
  },
  "runs": {
    summary: "list the latest runs from the index",
    needs: [READ_ROOT, { name: "read", flag: "db" }, DUAL_MODE_LEGACY_DB, FFI],
    load: async () => (await import("./runs.ts")).main,
  },
  "show": {
    summary: "show one run: phases, trials, artifacts",
    needs: [READ_ROOT, { name: "read", flag: "db" }, DUAL_MODE_LEGACY_DB, FFI],
    load: async () => (await import("./show.ts")).main,
  },
  "backtest": {
    summary: "run a path-only or policy backtest",
    needs: [
      READ_ROOT,
      WRITE_ROOT,
      ...READ_INPUTS,
      FFI,
      RUN_GIT,
    ],
    durableBeforeOutput: true,
    load: async () => (await import("./backtest.ts")).main,
  },
  "sweep": {
    summary: "run every combination of a policy grid as one sweep run",
    needs: [
      READ_ROOT,
      WRITE_ROOT,
      ...READ_INPUTS,
      FFI,
      RUN_GIT,
    ],
    durableBeforeOutput: true,
    load: async () => (await import("./sweep.ts")).main,
  },
  "rerun": {
    summary: "rerun a backtest or sweep from its manifest and compare results",
    needs: [READ_ROOT, WRITE_ROOT, FFI, RUN_GIT],
    durableBeforeOutput: true,
    load: async () => (await import("./rerun.ts")).main,
  },
  "legacy": {
    summary: "dual mode: backfill, parity and archive of the legacy DuckDB",
    needs: [
      READ_ROOT,
      WRITE_ROOT,
      READ_LEGACY_DB,
      { name: "write", flag: "legacy-db" },
      FFI,
    ],
    durableBeforeOutput: legacyWrites,
    load: async () => (await import("./legacy.ts")).main,
  },
  "report": {
    summary: "write one HTML report: overview, runs, compare, sweeps",
    needs: [READ_ROOT, { name: "read", flag: "db" }, NAMED_LEGACY_DB, ...OUT, FFI],
    durableBeforeOutput: writesOut,
    load: async () => (await import("./report.ts")).main,
  },
  "ui": {
    summary: "serve the report live from the index (read-only, loopback)",
    needs: [READ_ROOT, { name: "read", flag: "db" }, FFI],
    load: async () => (await import("./ui.ts")).main,
  },
  "compare": {
    summary: "compare runs: config, summary deltas, phases, callers",
    needs: [...QUERY, NAMED_LEGACY_DB],
    load: async () => (await import("./compare.ts")).main,
  },
  "trials": {
    summary: "list optimizer trials across runs, with filter and sort",
    needs: [...QUERY, NAMED_LEGACY_DB],
    load: async () => (await import("./trials.ts")).main,
  },
  "sql": {
    summary: "run one read-only SQL query on the index",
    needs: QUERY,
    load: async () => (await import("./sql.ts")).main,
  },
  "export": {
    summary: "write runs or trials as a flat Parquet, CSV or JSONL table",
    needs: [...QUERY, ...OUT],
    durableBeforeOutput: writesOut,
    load: async () => (await import("./export.ts")).main,
  },
  "tag": {
    summary: "tag a run: key=value (label is shown as the run's label)",
    needs: ANNOTATE,
    durableBeforeOutput: true,
    load: async () => (await import("./tag.ts")).tagMain,
  },
  "note": {
    summary: "add a note to a run",
    needs: ANNOTATE,
    durableBeforeOutput: true,
    load: async () => (await import("./tag.ts")).noteMain,
  },
  "archive": {
    summary: "archive a run: hidden from ledger runs unless --all",
    needs: ANNOTATE,
    durableBeforeOutput: true,
    load: async () => (await import("./tag.ts")).archiveMain,
  },
  "restore": {
    summary: "restore an archived run",
    needs: ANNOTATE,
    durableBeforeOutput: true,
    load: async () => (await import("./tag.ts")).restoreMain,
  },
  "ship": {
    summary: "upload new complete log lines to S3 (--to s3://BUCKET/PREFIX)",
    needs: [READ_ROOT, WRITE_ROOT],
    durableBeforeOutput: true,
    load: async () => (await import("./ship.ts")).main,
  },
  "verify": {
    summary: "scan the log and report torn, invalid and duplicate lines",
    needs: [READ_ROOT],
    load: async () => (await import("./verify.ts")).main,
  },
};

/**
 * The usage text printed by `ledger --help`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { usage } from "./ledger.ts";
 * const text = usage();
 * assert.match(text, /^ledger \d+\.\d+\.\d+: the run ledger for backtests\n/);
 * assert.match(text, /^ {2}rebuild-index /m); // one line per command
 * ```
 */
export function usage(): string {
  const lines = [
    `ledger ${denoJson.version}: the run ledger for backtests`,
    "",
    "Usage: ledger <command> [flags]   (every command takes --root DIR and --help)",
    "",
    "Commands:",
  ];
  for (const [name, cmd] of Object.entries(COMMANDS)) {
    lines.push(`  ${name.padEnd(14)} ${wrapText(cmd.summary, 17)}`); // 80 columns
  }
  lines.push(
    "",
    "Root: --root DIR, else $LEDGER_ROOT, else data/ledger.",
    "",
    "Numbers (--limit N, --fee-bps BPS, emit's N fields...) are written in decimal:",
    "a sign, digits, a fraction, an exponent (30, +5, -0, 1.5, .5, 1e3), blanks",
    "around ignored; not 0x10, 1_000 or Infinity. A flag of an integer takes one",
    "whose value is whole (5, 5.0, 1e3; not 1.5), as a JSON number in emit --event.",
  );
  return lines.join("\n");
}

/**
 * Run the `ledger` command line with `args` and return the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { run } from "./ledger.ts";
 * // `ledger --version` prints one line with console.log; catch it to check it.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await run(["--version"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.match(printed, /^ledger \d+\.\d+\.\d+$/);
 * ```
 */
export async function run(args: string[]): Promise<number> {
  const [name, ...rest] = rootFirst(args);
  if (name === "help" && rest.length > 0 && COMMANDS[rest[0]] !== undefined) {
    return await runCommand(rest[0], ["--help"], COMMANDS[rest[0]]); // `ledger help runs`
  }
  // A flag after `help` (`ledger --root DIR help` puts `--root` there) is the general help.
  const helpWords = new Set(["help", "version"]); // `ledger help help`: the general help
  if (name === "help" && rest.length > 0 && !rest[0].startsWith("-") && !helpWords.has(rest[0])) {
    // `ledger help bogus` printed the general help, exit 0, where `ledger bogus` exits 2.
    console.error(`ledger: unknown command ${JSON.stringify(rest[0])}; see ledger --help`);
    return EXIT_USAGE;
  }
  if (name === "--help" || name === "-h" || name === "help") return print(usage());
  if (name === undefined || name === "--root" || name.startsWith("--root=")) {
    // A usage error is one line on stderr (it was the whole help on stdout, exit 2).
    console.error(
      `ledger: missing command (${Object.keys(COMMANDS).join(", ")}); see ledger --help`,
    );
    return EXIT_USAGE;
  }
  if (name === "--version" || name === "-V" || name === "version") {
    return print(`ledger ${denoJson.version}`);
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`ledger: unknown command ${JSON.stringify(name)}; see ledger --help`);
    return EXIT_USAGE;
  }
  return await runCommand(name, rest, cmd);
}

/**
 * Print the help or the version: a failed write is one stderr line, exit 1
 * (an audit: `ledger --help > /dev/full` was an uncaught error and a stack
 * trace); a reader that went away, exit 0, as for every command.
 */
function print(text: string): number {
  try {
    console.log(text);
  } catch (err) {
    if (err instanceof Deno.errors.BrokenPipe) return EXIT_OK;
    console.error(`ledger: ${new StdoutWriteError({ cause: err }).message}`);
    return EXIT_FAILURE;
  }
  return EXIT_OK;
}

/**
 * `ledger --root DIR COMMAND ...` as `ledger COMMAND ... --root DIR`: every
 * command takes `--root` (SPEC 8), also written before the command's name.
 * It goes before a `--`, after which every word is an operand (a probe:
 * `ledger --root DIR note RUN -- "-5 bps"` read `--root` and DIR as text).
 */
function rootFirst(args: readonly string[]): string[] {
  const [root, rest] = args[0] === "--root" && args.length > 2
    ? [args.slice(0, 2), args.slice(2)]
    : args[0]?.startsWith("--root=") && args.length > 1
    ? [args.slice(0, 1), args.slice(1)]
    : [[], [...args]];
  const end = rest.indexOf("--");
  return end === -1 ? [...rest, ...root] : [...rest.slice(0, end), ...root, ...rest.slice(end)];
}

if (import.meta.main) {
  Deno.exit(await run(Deno.args));
}
