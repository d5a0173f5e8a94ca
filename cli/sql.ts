/**
 * `ledger sql QUERY [--format table|json|jsonl|csv]`: run one query on the
 * index (SPEC 11) through a read-only connection with DuckDB's external
 * access disabled and its configuration locked: nothing it runs can change
 * the index or read or write any other file.
 *
 * @module
 */
import { openStream, READER_MEMORY_LIMIT_DEFAULT, withReader } from "../indexer/query/mod.ts";
import { duckdb, type DuckDBExtractedStatements } from "../indexer/duckdb.ts";
import { EXIT_OK, type FlagSpec, parseFlags, UsageError } from "./_args.ts";
import {
  formatFlag,
  indexDbPath,
  readerMemoryLimitFlag,
  warnIfIndexMayLackRuns,
} from "./_query.ts";
import { cellText, leaveOutToFit, leftOutNote, terminalWidth, writeRows } from "./_table.ts";
import { stoppableRead } from "./_stop.ts";

export const FLAGS: FlagSpec = {
  "format": { type: "string" },
  "json": { type: "boolean" },
  "wide": { type: "boolean" },
  "db": { type: "string" },
  "memory-limit": { type: "string" },
};

/**
 * `COPY` or `EXPORT` when the one statement of `statements` (`query`) is
 * one, or an `EXPLAIN` (which `ANALYZE` runs) that names one: it writes a
 * file. Else undefined. A statement DuckDB cannot prepare is not
 * refused here: running it fails with DuckDB's own words.
 */
async function writingStatementKind(
  statements: DuckDBExtractedStatements,
  query: string,
): Promise<string | undefined> {
  const { StatementType } = duckdb(); // a connection is open
  let prepared;
  try {
    prepared = await statements.prepare(0);
  } catch (err) {
    if (!(err instanceof Error)) throw err;
    return undefined; // e.g. a COPY to a path external access refuses: said when it runs
  }
  try {
    if (prepared.statementType === StatementType.COPY) return "COPY";
    if (prepared.statementType === StatementType.EXPORT) return "EXPORT";
    if (prepared.statementType === StatementType.EXPLAIN) {
      // EXPLAIN ANALYZE runs the statement it explains (a review: EXPLAIN ANALYZE COPY ... TO
      // the index overwrote it). One that names COPY or EXPORT is refused as they are; the word
      // in a string or a name is refused too (rare, and said).
      const named = /\b(copy|export)\b/i.exec(query);
      if (named !== null) return `EXPLAIN of ${named[1].toUpperCase()}`;
    }
    return undefined;
  } finally {
    prepared.destroySync();
  }
}

/** How the DuckDB binding words a parser error of `extractStatements`, before the parser's words. */
const EXTRACT_FAILED = "Failed to extract statements: ";
/** The binding's error for a text that holds no statement (it has no parser error to read). */
const NO_STATEMENT_BINDING_ERROR = "Error in native callback";

/** Rows the table shows at most (the machine formats stream every row). */
export const SQL_TABLE_ROWS_MAX = 1000;

const USAGE = `Usage: ledger sql QUERY [--format table|json|jsonl|csv] [--json] [--wide]
                  [--memory-limit SIZE] [--db PATH] [--root DIR]

Run one SQL query on the index, read-only: writes fail, and DuckDB's
external access (files, extensions, network) is disabled and locked.
Tables and views: docs/INDEX.md. e.g.
  ledger sql "SELECT run_type, count(*) FROM latest_runs GROUP BY ALL"
--memory-limit: DuckDB memory of the query (default 256MB a core:
${READER_MEMORY_LIMIT_DEFAULT}); sorts, joins and aggregates past it spill to a
directory beside the index (removed after). Rows stream; at the end their
number is checked against a count of the query, so a result DuckDB stopped
early fails (exit 1) instead of printing part of the answer.

Exit codes: 0 ok, 1 no index or the query failed (a write refused, an
unknown table, out of memory), 2 usage error (a query that does not parse).`;

/**
 * Run `ledger sql` with `args`; returns the exit code.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { main } from "./sql.ts";
 * // The command line is `await main(args)`, e.g. main(["SELECT count(*) FROM latest_runs", "--format", "json"]); it returns the exit code.
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
 *   "Usage: ledger sql QUERY [--format table|json|jsonl|csv] [--json] [--wide]",
 * );
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, FLAGS, { allowPositionals: true });
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  if (positionals.length !== 1 || positionals[0].trim() === "") {
    throw new UsageError(
      positionals.length === 0 ? "QUERY is required" : "expected one QUERY (quote it)",
    );
  }
  const query = positionals[0];
  const format = formatFlag(values);
  const dbPath = indexDbPath(values);
  const memoryLimit = readerMemoryLimitFlag(values);
  const code = await stoppableRead("sql", (signal) =>
    withReader(dbPath, async (conn) => {
      const statements = await conn.extractStatements(query).catch((err: unknown) => {
        if (!(err instanceof Error)) throw err;
        // The parser's own words ("Parser Error: ..."), not the binding's; a query that does not
        // parse is bad input, a usage error as a --where that does not parse (a probe: exit 1).
        if (err.message.startsWith(EXTRACT_FAILED)) {
          throw new UsageError(err.message.slice(EXTRACT_FAILED.length));
        }
        // No statement and no parser error (only comments, blanks or semicolons): the binding
        // then fails reading the error DuckDB does not have. A probe: `ledger sql ";"` printed
        // "Error in native callback" and exited 1.
        if (err.message === NO_STATEMENT_BINDING_ERROR) {
          throw new UsageError("QUERY holds no statement (only comments, blanks or semicolons)");
        }
        throw err;
      });
      if (statements.count !== 1) {
        // DuckDB's count: some commands are several statements to it (a probe: `COPY FROM
        // DATABASE a TO b` is 4), so say whose count it is.
        throw new UsageError(
          `expected one query, and DuckDB reads QUERY as ${statements.count} statements`,
        );
      }
      // A read-only connection with external access off may still write its own database file
      // and WAL paths: `COPY ... TO '<the index>' (USE_TMP_FILE false)` overwrote the index, or a
      // --db legacy file, with CSV (a probe). No statement that writes a file runs.
      const kind = await writingStatementKind(statements, query);
      if (kind !== undefined) {
        throw new UsageError(
          `${kind} writes a file, and ledger sql writes none: print the rows with ` +
            "--format csv|jsonl|json, or use ledger export",
        );
      }
      // DuckDB aborts the whole process (not an error) when logging to a file is refused under
      // the reader's locked configuration: refuse it first.
      if (/\benable_logging\b/i.test(query)) {
        throw new UsageError("enable_logging is not available: the index is opened read-only");
      }
      const { columns, batches } = await openStream(conn, query);
      if (format !== "table") {
        // openStream's values are JSON's already (times as text, BLOBs as hex, exact numbers).
        await writeRows(
          batches,
          {
            format,
            csvColumns: columns.map((name) => ({
              header: name,
              get: (row: Record<string, unknown>) => row[name],
            })),
          },
        );
        return EXIT_OK;
      }
      const rows: Record<string, unknown>[] = [];
      let more = false;
      for await (const batch of batches) {
        for (const row of batch) {
          if (rows.length >= SQL_TABLE_ROWS_MAX) {
            more = true;
            break;
          }
          rows.push(row);
        }
        if (more) break;
      }
      if (rows.length === 0) {
        console.log(sqlTable(columns, [], { wide: values.wide === true }) + "\n(no rows)");
        return EXIT_OK;
      }
      console.log(sqlTable(columns, rows.map((r) => columns.map((h) => cellText(r[h]))), {
        wide: values.wide === true,
      }));
      if (more) console.log(`(first ${SQL_TABLE_ROWS_MAX} rows; use --format jsonl for all)`);
      return EXIT_OK;
    }, { memoryLimit, anyFormat: true, signal })); // any DuckDB file: the way into an older index
  if (code === EXIT_OK) await warnIfIndexMayLackRuns("sql", dbPath);
  return code;
}

/** Columns a left-out line names before "...". */
const LEFT_OUT_NAMED_MAX = 8;

/**
 * The table of an answer: fitted to the width (`$COLUMNS` into a pipe, else 80) with the last
 * columns left out while the rest cannot fit at 4 characters each, and a line naming them (a
 * contract check: 17 columns of `select * from latest_runs` made lines of 100 on an 80-column
 * terminal, every cell a stub).
 */
function sqlTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  options: { wide: boolean },
): string {
  const width = terminalWidth();
  const order = header.map((_, i) => header.length - 1 - i).slice(0, -1); // the first stays
  const { table, leftOut } = leaveOutToFit(header, rows, {
    width,
    widthsMin: [],
    order,
    wide: options.wide,
  });
  if (leftOut.length === 0) return table;
  const names = leftOut.slice().reverse().map((i) => header[i]);
  const note = leftOutNote(width, names, {
    counted: true,
    namedMax: LEFT_OUT_NAMED_MAX,
    hint: "--wide or --format csv shows all",
  });
  return `${table}\n${note}`;
}
