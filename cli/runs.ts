/**
 * `ledger runs`: list the latest runs from the index, newest first, as a
 * table (run id, type, status, created, duration, phases) or, with
 * `--json`, as a JSON array for scripts. Reads the index read-only.
 *
 * @module
 */
import { resolve } from "node:path";
import { indexPath } from "../ledger/paths.ts";
import {
  IndexNotFoundError,
  listRuns,
  RUN_STATUSES,
  type RunRow,
  type RunStatus,
} from "../indexer/queries.ts";
import {
  activeLegacyDbPath,
  DateFormatError,
  dayStartMs,
  DEFAULT_CUTOVER_DATE,
  DEFAULT_LEGACY_DB_PATH,
  type DualRunRow,
  listDualRuns,
} from "../legacy/dual.ts";
import {
  EXIT_FAILURE,
  EXIT_OK,
  type FlagSpec,
  integerFlag,
  type ParsedFlags,
  parseFlags,
  resolveRootFlag,
  stringFlag,
  UsageError,
} from "./_args.ts";

const FLAGS: FlagSpec = {
  "status": { type: "string" },
  "limit": { type: "string" },
  "json": { type: "boolean" },
  "db": { type: "string" },
  "legacy-db": { type: "string" },
  "cutover-date": { type: "string" },
};

/** Rows the table shows when `--limit` is not given (`--json` shows all). */
export const TABLE_ROWS_DEFAULT = 50;

const USAGE = `Usage: ledger runs [--status S] [--limit N] [--json] [--db PATH] [--root DIR]
                   [--legacy-db PATH] [--cutover-date YYYY-MM-DD]

List the latest runs from the index, newest first: run id, type, status,
created (UTC), duration, phases. --status keeps one of
${RUN_STATUSES.join(", ")}. --limit N shows at most N runs (the table shows
${TABLE_ROWS_DEFAULT} by default; --json prints all as a JSON array).

Dual mode (docs/MIGRATION.md): when ${DEFAULT_LEGACY_DB_PATH} exists or
--legacy-db PATH is given, runs of that legacy DuckDB are listed too, each run
once: created before the cutover (${DEFAULT_CUTOVER_DATE}, or --cutover-date) from
the legacy file, later from the index. Rows carry "source" (legacy or
event_log) in --json and a SOURCE column in the table.

Exit codes: 0 ok, 1 no index or unreadable index, 2 usage error.`;

/**
 * Run `ledger runs` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * import { main } from "./runs.ts";
 * Deno.exit(await main(["--status", "failed", "--json"]));
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, FLAGS);
  if (values.help) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const root = resolveRootFlag(values);
  const status = statusFlag(stringFlag(values, "status"));
  const limit = integerFlag(values, "limit");
  if (limit !== undefined && limit < 1) {
    throw new UsageError(`--limit must be a positive integer, got ${JSON.stringify(values.limit)}`);
  }
  const db = stringFlag(values, "db");
  if (db === "") throw new UsageError("--db must not be empty");
  const dbPath = db === undefined ? indexPath(root) : resolve(db);
  const json = values.json === true;
  const cutoverDate = cutoverDateFlag(values);
  const legacyDbPath = await activeLegacyDbPath(legacyDbFlag(values));
  if (legacyDbPath !== undefined) {
    const dual = await listDualRuns(dbPath, {
      legacyDbPath,
      cutoverDate,
      status,
      limit: limit ?? (json ? undefined : TABLE_ROWS_DEFAULT + 1),
    });
    for (const w of dual.warnings) console.error(`ledger runs: warning: ${w}`);
    return printRuns(dual.runs, { json, limit });
  }
  let runs: RunRow[];
  try {
    runs = await listRuns(dbPath, {
      status,
      limit: limit ?? (json ? undefined : TABLE_ROWS_DEFAULT + 1),
    });
  } catch (err) {
    if (err instanceof IndexNotFoundError) {
      console.error(`ledger runs: ${err.message}`);
      return EXIT_FAILURE;
    }
    throw err;
  }
  return printRuns(runs.map((r) => ({ ...r, source: "event_log" })), { json, limit });
}

function printRuns(
  runs: DualRunRow[],
  options: { json: boolean; limit: number | undefined },
): number {
  if (options.json) {
    console.log(JSON.stringify(runs, null, 2));
    return EXIT_OK;
  }
  const more = options.limit === undefined && runs.length > TABLE_ROWS_DEFAULT;
  const shown = more ? runs.slice(0, TABLE_ROWS_DEFAULT) : runs;
  const dual = runs.some((r) => r.source === "legacy");
  console.log(formatRunsTable(shown, { source: dual }));
  if (more) console.log(`(first ${TABLE_ROWS_DEFAULT} runs; use --limit N or --json for more)`);
  return EXIT_OK;
}

function legacyDbFlag(values: ParsedFlags["values"]): string | undefined {
  const raw = stringFlag(values, "legacy-db");
  if (raw === "") throw new UsageError("--legacy-db must not be empty");
  return raw;
}

function cutoverDateFlag(values: ParsedFlags["values"]): string | undefined {
  const raw = stringFlag(values, "cutover-date");
  if (raw === undefined) return undefined;
  try {
    dayStartMs(raw, "--cutover-date");
  } catch (err) {
    if (err instanceof DateFormatError) throw new UsageError(err.message);
    throw err;
  }
  return raw;
}

function statusFlag(raw: string | undefined): RunStatus | undefined {
  if (raw === undefined) return undefined;
  if (!(RUN_STATUSES as readonly string[]).includes(raw)) {
    throw new UsageError(
      `--status must be one of ${RUN_STATUSES.join(", ")}, got ${JSON.stringify(raw)}`,
    );
  }
  return raw as RunStatus;
}

/** Options for {@linkcode formatRunsTable}. */
export interface FormatRunsTableOptions {
  /** Add a SOURCE column (`legacy` or `event_log`), for dual mode. @default {false} */
  source?: boolean;
}

/**
 * The runs table: run id, type, status, created, duration, phases (and the
 * source in dual mode).
 *
 * @example
 * ```ts ignore
 * import { formatRunsTable } from "./runs.ts";
 * console.log(formatRunsTable([]));
 * ```
 */
export function formatRunsTable(
  runs: readonly (RunRow & { source?: string })[],
  options: FormatRunsTableOptions = {},
): string {
  if (runs.length === 0) return "No runs in the index.";
  const header = ["RUN ID", "TYPE", "STATUS", "CREATED", "DURATION", "PHASES"];
  if (options.source) header.push("SOURCE");
  const body = runs.map((r) => [
    r.run_id,
    r.run_type ?? "-",
    r.status,
    formatTime(r.created_at_ms),
    formatDuration(r.duration_ms),
    String(r.phase_count),
    ...(options.source ? [r.source ?? "event_log"] : []),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i].length)));
  return [header, ...body]
    .map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join("  ").trimEnd())
    .join("\n");
}

/**
 * A time as ISO 8601 UTC to the second, or `-`.
 *
 * @example
 * ```ts
 * import { formatTime } from "./runs.ts";
 * console.assert(formatTime(0) === "1970-01-01T00:00:00Z");
 * ```
 */
export function formatTime(ms: number | null): string {
  if (ms === null) return "-";
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * A duration for people: `850 ms`, `12.3 s`, `4 m 05 s`, `2 h 03 m`, or `-`.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./runs.ts";
 * console.assert(formatDuration(12_300) === "12.3 s");
 * ```
 */
export function formatDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return "-";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} m ${String(s % 60).padStart(2, "0")} s`;
  const m = Math.floor(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} m`;
}
