/**
 * Command-line pieces shared by the query commands (`runs`, `trials`,
 * `compare`, `show`, `tag`, `sql`, `export`): the index path, the format
 * flag, and turning the query library's errors into usage errors (exit 2)
 * where the command line was wrong.
 *
 * @module
 */
import { resolve } from "node:path";
import { indexPath } from "../ledger/paths.ts";
import { AmbiguousRunError } from "../indexer/query/resolve.ts";
import { FilterSyntaxError } from "../indexer/query/filter.ts";
import { QueryUsageError } from "../indexer/query/runs.ts";
import { InstantFormatError } from "../indexer/query/time.ts";
import { READER_MEMORY_LIMIT_DEFAULT } from "../indexer/queries.ts";
import { OUTPUT_FORMATS, type OutputFormat } from "./_table.ts";
import {
  memoryLimitFlag,
  type ParsedFlags,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";

/**
 * The index file: `--db PATH`, else `<root>/index/runs.duckdb`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { indexDbPath } from "./_query.ts";
 * assert.equal(indexDbPath({ root: "/r" }), "/r/index/runs.duckdb");
 * ```
 */
export function indexDbPath(values: ParsedFlags["values"]): string {
  const db = stringFlag(values, "db");
  if (db === "") throw new UsageError("--db must not be empty");
  return db === undefined ? indexPath(resolveRootFlag(values)) : resolve(db);
}

/**
 * The reader's DuckDB memory limit: `--memory-limit SIZE`, else
 * {@linkcode READER_MEMORY_LIMIT_DEFAULT}; a size DuckDB does not take is a
 * usage error.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { readerMemoryLimitFlag } from "./_query.ts";
 * import { READER_THREADS } from "../indexer/queries.ts";
 * assert.equal(readerMemoryLimitFlag({}), `${256 * READER_THREADS}MB`); // 256MB a DuckDB thread
 * assert.equal(readerMemoryLimitFlag({ "memory-limit": "1 gib" }), "1GiB");
 * assert.throws(() => readerMemoryLimitFlag({ "memory-limit": "lots" }), /--memory-limit "lots"/);
 * ```
 */
export function readerMemoryLimitFlag(values: ParsedFlags["values"]): string {
  return memoryLimitFlag(values) ?? READER_MEMORY_LIMIT_DEFAULT;
}

/**
 * The output format: `--format F` (one of `formats`), `--json` for `json`,
 * else `fallback`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { formatFlag } from "./_query.ts";
 * assert.equal(formatFlag({ json: true }), "json");
 * ```
 */
export function formatFlag(
  values: ParsedFlags["values"],
  formats: readonly string[] = OUTPUT_FORMATS,
  fallback = "table",
): OutputFormat {
  const raw = stringFlag(values, "format");
  if (values.json === true) {
    if (raw !== undefined && raw !== "json") {
      throw new UsageError(`--json contradicts --format ${JSON.stringify(raw)}`);
    }
    return "json";
  }
  if (raw === undefined) return fallback as OutputFormat;
  if (!formats.includes(raw)) {
    throw new UsageError(
      `--format must be one of ${formats.join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw as OutputFormat;
}

/** A repeatable string flag's values (`--where A --where B`). */
export function listFlag(values: ParsedFlags["values"], name: string): string[] {
  const v = values[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [v];
  return list.map((x) => {
    if (typeof x !== "string") throw new UsageError(`--${name} needs a value`);
    return x;
  });
}

/**
 * Run `fn`, turning the query library's input errors (bad expression,
 * field, sort, instant, ambiguous prefix, a regular expression DuckDB
 * refuses) into {@linkcode UsageError}s.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { asUsage } from "./_query.ts";
 * import { UsageError } from "./_args.ts";
 * import { parseFilter } from "../indexer/query/filter.ts";
 * // A bad --where is the user's mistake: a UsageError (exit 2) with the parser's message.
 * await assert.rejects(
 *   asUsage(async () => parseFilter("summary.win_rate >")),
 *   (err) => err instanceof UsageError && /^Unexpected end of expression/.test(err.message),
 * );
 * // Any other error passes through as it is; a result comes back unchanged.
 * await assert.rejects(asUsage(() => Promise.reject(new RangeError("disk"))), RangeError);
 * assert.equal(await asUsage(() => Promise.resolve(3)), 3);
 * ```
 */
export async function asUsage<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (
      err instanceof QueryUsageError || err instanceof AmbiguousRunError ||
      err instanceof FilterSyntaxError || err instanceof InstantFormatError
    ) {
      throw new UsageError(err.message);
    }
    if (err instanceof Error && /regular expression|regex/i.test(err.message)) {
      throw new UsageError(`--where: ${err.message.split("\n")[0]}`);
    }
    throw err;
  }
}
