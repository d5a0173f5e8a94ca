/**
 * `ledger export runs|trials --format parquet|csv|jsonl --out PATH
 * [--where EXPR]`: a flat table for pandas or polars (SPEC 11), columns
 * `config.*`, `summary.*`, `tags.*` (runs) or `params.*`, `metrics.*`
 * (trials) with their types kept.
 *
 * @module
 */
import { messageValue } from "../ledger/control_text.ts";
import { countOf } from "../ledger/count_text.ts";
import { STOP_EXIT_CODES, stopOnSignals, StopSignalError } from "./_stop.ts";
import {
  EXPORT_FORMATS,
  type ExportFormat,
  exportIndex,
  READER_MEMORY_LIMIT_DEFAULT,
} from "../indexer/query/mod.ts";
import {
  EXIT_OK,
  type FlagSpec,
  parseFlags,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";
import {
  asUsage,
  formatFlag,
  indexDbPath,
  listFlag,
  readerMemoryLimitFlag,
  refuseLedgerOut,
  refuseUnwritableOut,
  warnIfIndexMayLackRuns,
} from "./_query.ts";

export const FLAGS: FlagSpec = {
  "format": { type: "string" },
  "out": { type: "string" },
  "where": { type: "string", multiple: true },
  "all": { type: "boolean" },
  "db": { type: "string" },
  "memory-limit": { type: "string" },
};

const USAGE = `Usage: ledger export runs|trials --format parquet|csv|jsonl --out PATH
                     [--where EXPR]... [--all] [--memory-limit SIZE]
                     [--db PATH] [--root DIR]

Write runs (or trials) as one flat table: fixed columns (run_id, status,
created_at, ...) then one column per summary.*, config.*, tags.* path (runs)
or params.*, metrics.* path (trials), grouped in that order. Numbers stay
numbers (BIGINT, DECIMAL(38,0) or DOUBLE; a string written as a JSON number,
"10" not "0010", counts as one beside numbers; a column no number type holds
exactly, such as 9007199254740993 beside 0.5, is text as logged, named on
stderr), booleans BOOLEAN, the rest text. --where filters as in
ledger runs or ledger trials. Column names join keys with "." and write a
"." inside a key as "\\." (key "a.b": config.a\\.b; path a -> b: config.a.b);
names equal ignoring case get "~2", "~3"... (config.N, config.n~2).
--all includes archived runs (and their trials). The file is written aside
and renamed into place (an --out that is a symbolic link: over the file it
leads to). --memory-limit: DuckDB memory of the query
(default 256MB a core: ${READER_MEMORY_LIMIT_DEFAULT}); a sort past it spills beside the index.

  python: pandas.read_parquet("runs.parquet"); polars.read_parquet(...)

Exit codes: 0 ok, 1 no index or the file cannot be written, 2 usage error
(an --out in a folder that does not exist, a folder, a device or a link to a
process's open file such as /dev/stdout included),
130/143 interrupted by SIGINT/SIGTERM (the temporary file removed, --out
unchanged).`;

/**
 * Run `ledger export` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./export.ts";
 * // The command line is `await main(args)`, e.g. main(["runs", "--format", "parquet", "--out", "runs.parquet"]); it returns the exit code.
 * // --help prints the usage with console.log; catch it to check its first line.
 * const log = console.log;
 * let printed = "";
 * console.log = (text: string) => {
 *   printed += text;
 * };
 * try {
 *   assert.equal(await main(["--help"]), 0);
 * } finally {
 *   console.log = log;
 * }
 * assert.equal(
 *   printed.split("\n")[0],
 *   "Usage: ledger export runs|trials --format parquet|csv|jsonl --out PATH",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const [what, ...rest] = positionals;
  if (what !== "runs" && what !== "trials") {
    throw new UsageError(
      what === undefined
        ? "expected what to export: runs or trials"
        : `expected runs or trials, got ${JSON.stringify(what)}`,
    );
  }
  if (rest.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(rest[0])}`);
  if (stringFlag(values, "format") === undefined) {
    throw new UsageError(`--format is required (${EXPORT_FORMATS.join(", ")})`);
  }
  const format = formatFlag(values, EXPORT_FORMATS) as string as ExportFormat;
  const out = stringFlag(values, "out");
  if (out === undefined || out === "") throw new UsageError("--out PATH is required");
  const dbPath = indexDbPath(values);
  await refuseLedgerOut(out, resolveRootFlag(values), dbPath);
  const target = await refuseUnwritableOut(out, `${what}.${format}`);
  const memoryLimit = readerMemoryLimitFlag(values);
  let report;
  {
    // SIGINT/SIGTERM: the export stops and its temporary file is removed (it was left beside
    // the target).
    using stop = stopOnSignals();
    try {
      report = await asUsage(() =>
        exportIndex(dbPath, {
          what,
          format,
          outPath: target,
          where: listFlag(values, "where"),
          includeArchived: values.all === true,
        }, { memoryLimit, signal: stop.signal })
      );
    } catch (err) {
      if (err instanceof StopSignalError) {
        console.error(
          `ledger export: interrupted by ${err.signal}; nothing written to ${messageValue(out)}`,
        );
        return STOP_EXIT_CODES[err.signal];
      }
      throw err;
    }
  }
  console.log(
    `wrote ${countOf(report.rows, what.slice(0, -1))} x ${
      countOf(report.columns.length, "column")
    } to ${out} (${format})`,
  );
  if (report.numbersAsText.length > 0) {
    const names = report.numbersAsText;
    console.error(
      `ledger export: ${names.length === 1 ? "column" : "columns"} ${names.join(", ")} ` +
        `written as text, each number as logged: a number column would round ` +
        `${names.length === 1 ? "one of its integers" : "some of their integers"}`,
    );
  }
  await warnIfIndexMayLackRuns("export", dbPath);
  return EXIT_OK;
}
