/**
 * Bad input catalog: every command given wrong flags, values, ids, files and
 * roots exits non-zero with one line on stderr naming the problem, and
 * changes nothing on disk (the sandbox tree is hashed before and after).
 * Each case runs the real `ledger` process in its own copy of a sandbox
 * that holds a log, its index and a stray regular file.
 *
 * Decisions the cases pin down: a symlinked root is followed (a common
 * layout: `data/ledger -> /mnt/disk/ledger`); a dangling one is a missing
 * root. Run ids are checked against `RUN_ID_PATTERN` before any path is
 * built, so SQL- and path-looking ids never reach SQL or the file system.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { openWriter } from "../../ledger/writer.ts";
import { sampleInputs } from "../ledger/_helpers.ts";
import { createLegacyDb } from "../legacy/_legacy_fixture.ts";
import { hashTree, REPO_ROOT, runLedger, withTempDir } from "../_helpers.ts";

/** Cases run at once (each is a separate process). */
const PARALLEL_CASES = 3;

/** `{S}` in args and stdin is replaced by the case's sandbox directory. */
interface BadInput {
  /** The command the case is about (skipped while it is a placeholder). */
  command: string;
  args: string[];
  stdin?: string | Uint8Array;
  /** Exit code wanted: 1 or 2, or "nonzero". */
  code: 1 | 2 | "nonzero";
  /** What the one stderr line must mention. */
  names: RegExp;
}

const ROOT = "{S}/ledger";
const OVERSIZE_LINE = JSON.stringify({
  event_type: "run.started",
  run_id: "big",
  blob: "z".repeat(1_100_000),
});
const INVALID_UTF8 = new Uint8Array([
  ...new TextEncoder().encode('{"event_type":"run.started","run_id":"r'),
  0xc3,
  0x28,
  ...new TextEncoder().encode('"}\n'),
]);
const SQL_ID = "x'; DROP TABLE events; --";
const PATH_ID = "../../etc/passwd";

/** The sample data set (the cases run in a sandbox, not in the repository). */
const SAMPLE = [
  "--calls",
  join(REPO_ROOT, "data/sample/calls.csv"),
  "--candles",
  join(REPO_ROOT, "data/sample/candles_1m.parquet"),
];

/** Sweep grids: two valid combinations, and one valid and one invalid. */
const GRID_2 = '{"type":"fixed_stop","stopPct":[0.2,0.3]}';
/** A sweep of {@linkcode GRID_2} with `--max-trials VALUE`. */
const sweepMaxTrials = (value: string) => [
  "sweep",
  "policy",
  "--root",
  ROOT,
  ...SAMPLE,
  "--no-index",
  "--grid",
  GRID_2,
  "--max-trials",
  value,
];
const GRID_BAD = '{"type":"fixed_stop","stopPct":[0.2,7]}';
/** JSON over several lines with a typo at line 3, column 13. */
const JSON_TYPO = '{\n "type": "fixed_stop",\n "stopPct": abc\n}';

function emit(...args: string[]): string[] {
  return ["emit", "--root", ROOT, ...args];
}

const CASES: BadInput[] = [
  // emit
  {
    // A name cut mid-emoji (a lone UTF-16 surrogate): refused, the field named (issue 19.1).
    command: "emit",
    args: emit("--event", '{"event_type":"run.started","run_id":"r1","host":"\\ud83d"}'),
    code: 1,
    names: /host must be well-formed Unicode/,
  },
  {
    // Nesting past JSON_DEPTH_MAX: refused, the field named, no stack overflow (issue 19.9).
    command: "emit",
    args: emit(
      "--event-type",
      "run.created",
      "--run-id",
      "r1",
      "--run-type",
      "x",
      "--data-fingerprint",
      "f",
      "--config",
      '{"a":'.repeat(10_000) + "1" + "}".repeat(10_000),
    ),
    code: 1,
    names: /config\.a\.a\.a\.\.\. \(\d+ levels\) must be nested at most/,
  },
  { command: "emit", args: emit("--bogus", "1"), code: 2, names: /--bogus/ },
  {
    command: "emit",
    args: emit("--event-type", "run.started", "--run-id"),
    code: 2,
    names: /run-id/,
  },
  { command: "emit", args: emit("--run-id", "r1"), code: 2, names: /--event-type/ },
  {
    command: "emit",
    args: emit("--event-type", "run.exploded", "--run-id", "r1"),
    code: 1,
    names: /run\.exploded|event_type/,
  },
  {
    command: "emit",
    args: emit("--event-type", "run.started", "--run-id", SQL_ID),
    code: 1,
    names: /run_id/,
  },
  {
    command: "emit",
    args: emit("--event-type", "run.started", "--run-id", PATH_ID),
    code: 1,
    names: /run_id/,
  },
  {
    command: "emit",
    args: emit("--event-type", "run.started", "--run-id", ""),
    code: 1,
    names: /run_id/,
  },
  {
    command: "emit",
    args: emit(
      "--event-type",
      "phase.started",
      "--run-id",
      "r1",
      "--phase-name",
      "p",
      "--phase-order",
      "NaN",
    ),
    code: 1,
    names: /phase_order/,
  },
  {
    command: "emit",
    args: emit(
      "--event-type",
      "phase.completed",
      "--run-id",
      "r1",
      "--phase-name",
      "p",
      "--duration-ms",
      "Infinity",
      "--output-summary",
      "{}",
    ),
    code: 1,
    names: /duration_ms/,
  },
  {
    command: "emit",
    args: emit(
      "--event-type",
      "artifact.created",
      "--run-id",
      "r1",
      "--artifact-type",
      "t",
      "--artifact-path",
      "p",
      "--size-bytes",
      "-5",
    ),
    code: 1,
    names: /size_bytes/,
  },
  {
    command: "emit",
    args: emit(
      "--event-type",
      "run.created",
      "--run-id",
      "r1",
      "--run-type",
      "t",
      "--config",
      "{bad",
      "--data-fingerprint",
      "f",
    ),
    code: 1,
    names: /config/,
  },
  {
    command: "emit",
    args: emit(
      "--event-type",
      "run.started",
      "--run-id",
      "r1",
      "--timestamp-ms",
      "99999999999999999",
    ),
    code: 1,
    names: /timestamp_ms/,
  },
  { command: "emit", args: emit("--event", "[1,2]"), code: 1, names: /object|event/ },
  {
    command: "emit",
    args: emit("--event", '{"event_type":"run.started","run_id":"r1"}', "--run-id", "r2"),
    code: 2,
    names: /--event/,
  },
  { command: "emit", args: emit("--stdin"), stdin: OVERSIZE_LINE, code: 1, names: /too large/ },
  { command: "emit", args: emit("--stdin"), stdin: INVALID_UTF8, code: 1, names: /UTF-8/ },
  {
    command: "emit",
    args: emit("--stdin"),
    stdin:
      '{"event_type":"run.started","run_id":"ok"}\n{"event_type":"run.started","run_id":"NaN","pid":"NaN"}\n',
    code: 1,
    names: /line 2.*pid/,
  },
  { command: "emit", args: emit("--stdin"), stdin: "\n\n", code: 1, names: /no events/ },
  {
    command: "emit",
    args: ["emit", "--root", "{S}/dangling", "--event-type", "run.started", "--run-id", "r1"],
    code: 1,
    names: /dangling/,
  },
  {
    command: "emit",
    args: ["emit", "--root", "{S}/stray.txt", "--event-type", "run.started", "--run-id", "r1"],
    code: 1,
    names: /stray\.txt/,
  },
  // rebuild-index (exit 2 for usage, 1 for failure, like every command)
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", ROOT, "--bogus"],
    code: 2,
    names: /--bogus/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", ROOT, "--since-date", "2026-02-30"],
    code: 2,
    names: /2026-02-30/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", ROOT, "--since-date", "yesterday"],
    code: 2,
    names: /yesterday/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", ROOT, "--db"],
    code: 2,
    names: /--db/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", ROOT, "--stale-after-hours", "-1"],
    code: 2,
    names: /stale-after-hours/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", ROOT, "--stale-after-hours", "NaN"],
    code: 2,
    names: /stale-after-hours/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", "{S}/missing"],
    code: 1,
    names: /missing does not exist/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", "{S}/dangling"],
    code: 1,
    names: /dangling/,
  },
  {
    // A file as the root was said to be missing (a help audit).
    command: "rebuild_index",
    args: ["rebuild-index", "--root", "{S}/stray.txt"],
    code: 1,
    names: /stray\.txt is not a directory/,
  },
  {
    command: "compare",
    args: ["compare", "a", "b", "--root", "{S}/stray.txt"],
    code: 1,
    names: /stray\.txt is not a directory/,
  },
  {
    command: "rebuild_index",
    args: ["rebuild-index", "--root", "{S}/stray.txt/sub"],
    code: 1,
    names: /stray\.txt\/sub does not exist: \S+stray\.txt is a file/,
  },
  {
    command: "verify",
    args: ["verify", "--root", "{S}/stray.txt/sub"],
    code: 1,
    names: /stray\.txt\/sub does not exist: \S+stray\.txt is a file/,
  },
  {
    command: "backtest",
    args: ["backtest", "path-only", "--root", "{S}/stray.txt/sub", ...SAMPLE, "--no-index"],
    code: 1,
    names: /stray\.txt\/sub: \S+stray\.txt is not a directory/,
  },
  {
    command: "rerun",
    args: ["rerun", "run-a", "--root", "{S}/stray.txt"],
    code: 1,
    names: /stray\.txt is not a directory/,
  },
  {
    command: "runs",
    args: ["runs", "--root", "{S}/stray.txt/sub"],
    code: 1,
    names: /No index at \S+: \S+stray\.txt is a file/,
  },
  {
    // Under a file: no index there (was the raw "Not a directory (os error 20)").
    command: "runs",
    args: ["runs", "--root", "{S}/stray.txt"],
    code: 1,
    names: /^ledger runs: No index at \S+stray\.txt\/index\/runs\.duckdb/,
  },
  // daemon
  {
    command: "daemon",
    args: ["daemon", "--root", "{S}/missing", "--interval", "1"],
    code: 1,
    names: /missing does not exist/,
  },
  {
    command: "daemon",
    args: ["daemon", "--root", ROOT, "--interval", "0"],
    code: 2,
    names: /interval/,
  },
  {
    command: "daemon",
    args: ["daemon", "--root", ROOT, "--interval", "abc"],
    code: 2,
    names: /interval/,
  },
  {
    command: "daemon",
    args: ["daemon", "--root", ROOT, "--interval", "-5"],
    code: 2,
    names: /interval/,
  },
  { command: "daemon", args: ["daemon", "--root", ROOT, "--bogus"], code: 2, names: /--bogus/ },
  {
    // It retried every interval for ever (a bad-input audit); rebuild-index fails at once.
    command: "daemon",
    args: ["daemon", "--root", ROOT, "--db", `${ROOT}/events`, "--interval", "1"],
    code: 1,
    names: /events is a directory, not a regular file/,
  },
  {
    command: "ui",
    args: ["ui", "--root", ROOT, "--host", "bad host!"],
    code: 2,
    names: /--host must be a host name or an IP address, got "bad host!"/,
  },
  // runs
  {
    command: "runs",
    args: ["runs", "--root", ROOT, "--status", "bogus"],
    code: 2,
    names: /status/,
  },
  { command: "runs", args: ["runs", "--root", ROOT, "--limit", "-1"], code: 2, names: /limit/ },
  { command: "runs", args: ["runs", "--root", ROOT, "--limit", "ten"], code: 2, names: /limit/ },
  {
    command: "runs",
    args: ["runs", "--root", ROOT, "--db", "{S}/nope.duckdb"],
    code: 1,
    names: /nope\.duckdb/,
  },
  { command: "runs", args: ["runs", "--root", "{S}/missing"], code: 1, names: /missing/ },
  {
    command: "runs",
    args: ["runs", "--root", ROOT, "--legacy-db", "{S}/legacy.duckdb"],
    code: 1,
    names: /legacy\.duckdb/,
  },
  {
    // Dual mode skipped the flag's check (an audit): a usage error with or without it.
    command: "runs",
    args: ["runs", "--root", ROOT, "--legacy-db", "{S}/legacy.duckdb", "--memory-limit", "abc"],
    code: 2,
    names: /Invalid --memory-limit "abc"/,
  },
  {
    command: "runs",
    args: ["runs", "--root", ROOT, "--db", "{S}/stray.txt"],
    code: 1,
    names: /stray\.txt/,
  },
  {
    command: "runs",
    args: ["runs", "--root", ROOT, "--cutover-date", "2026-13-01"],
    code: 2,
    names: /cutover-date/,
  },
  // show
  { command: "show", args: ["show", "--root", ROOT], code: 2, names: /RUN_ID|run id/i },
  { command: "show", args: ["show", "--root", ROOT, "nope"], code: 1, names: /nope/ },
  {
    command: "show",
    args: ["show", "--root", ROOT, SQL_ID],
    code: "nonzero",
    names: /DROP TABLE|run id|run_id/i,
  },
  {
    command: "show",
    args: ["show", "--root", ROOT, PATH_ID],
    code: "nonzero",
    names: /etc\/passwd|run id|run_id/i,
  },
  {
    command: "show",
    args: ["show", "--root", ROOT, "run-a", "run-b"],
    code: 2,
    names: /RUN_ID/,
  },
  // backtest
  { command: "backtest", args: ["backtest", "--root", ROOT], code: 2, names: /path-only|policy/ },
  {
    command: "backtest",
    args: ["backtest", "momentum", "--root", ROOT],
    code: 2,
    names: /momentum/,
  },
  {
    command: "backtest",
    args: ["backtest", "path-only", "--root", ROOT, "--run-id", "../escape"],
    code: 2,
    names: /run-id/,
  },
  {
    // A file named on the command line that does not exist is a usage error, as --policy @file.
    command: "backtest",
    args: ["backtest", "path-only", "--root", ROOT, "--calls", "{S}/nope.csv", "--no-index"],
    code: 2,
    names: /--calls: Calls file \S+nope\.csv does not exist/,
  },
  {
    command: "backtest",
    args: ["backtest", "path-only", "--root", ROOT, "--candles", "{S}/nope.csv", "--no-index"],
    code: 2,
    names: /--candles: Candles file \S+nope\.csv does not exist/,
  },
  {
    command: "backtest",
    args: ["backtest", "path-only", "--root", ROOT, ...SAMPLE, "--from", "yesterday", "--no-index"],
    code: 2,
    names: /from/,
  },
  {
    command: "backtest",
    args: ["backtest", "path-only", "--root", ROOT, ...SAMPLE, "--interval", "7m", "--no-index"],
    code: 2,
    names: /interval|7m/,
  },
  {
    command: "backtest",
    args: [
      "backtest",
      "policy",
      "--root",
      ROOT,
      ...SAMPLE,
      "--policy",
      "@{S}/nope.json",
      "--no-index",
    ],
    code: 2,
    names: /nope\.json/,
  },
  {
    command: "backtest",
    args: ["backtest", "policy", "--root", ROOT, ...SAMPLE, "--fee-bps", "NaN", "--no-index"],
    code: 2,
    names: /fee-bps/,
  },
  {
    // V8's message quotes the JSON with its newlines: one line, with the position.
    command: "backtest",
    args: ["backtest", "policy", "--root", ROOT, ...SAMPLE, "--policy", JSON_TYPO, "--no-index"],
    code: 2,
    names: /--policy: Invalid policy: not valid JSON .* at line 3 column 13/,
  },
  {
    // A dangling symlink is a missing root that cannot be created (not "File exists").
    command: "backtest",
    args: ["backtest", "path-only", "--root", "{S}/dangling", ...SAMPLE, "--no-index"],
    code: 1,
    names: /dangling does not exist: it is a dangling symbolic link/,
  },
  {
    command: "backtest",
    args: [
      "backtest",
      "policy",
      "--root",
      ROOT,
      ...SAMPLE,
      "--policy",
      '{"kind":"fixed_stop","stopPct":1.5}',
      "--no-index",
    ],
    code: 2,
    names: /stopPct/,
  },
  {
    command: "backtest",
    args: ["backtest", "path-only", "--root", ROOT, ...SAMPLE, "--run-id", "run-b", "--no-index"],
    code: 2,
    names: /run-b is taken/,
  },
  {
    command: "emit",
    args: emit(
      "--event-type",
      "run.created",
      "--run-id",
      "run-b",
      "--run-type",
      "policy",
      "--config",
      "{}",
      "--data-fingerprint",
      "x",
    ),
    code: 2,
    names: /run run-b already exists/,
  },
  // legacy
  {
    command: "legacy",
    args: ["legacy", "--root", ROOT],
    code: 2,
    names: /backfill|parity|archive/,
  },
  { command: "legacy", args: ["legacy", "migrate", "--root", ROOT], code: 2, names: /migrate/ },
  {
    command: "legacy",
    args: ["legacy", "parity", "--root", ROOT, "--legacy-db", "{S}/legacy.duckdb"],
    code: 1,
    names: /legacy\.duckdb/,
  },
  {
    command: "legacy",
    args: ["legacy", "backfill", "--root", ROOT, "--legacy-db", "{S}/legacy.duckdb"],
    code: 1,
    names: /legacy\.duckdb/,
  },
  {
    command: "legacy",
    args: ["legacy", "archive", "--root", ROOT, "--legacy-db", "{S}/legacy.duckdb"],
    code: 1,
    names: /legacy\.duckdb/,
  },
  {
    command: "legacy",
    args: ["legacy", "backfill", "--root", ROOT, "--legacy-db", "{S}/stray.txt"],
    code: 1,
    names: /stray\.txt/,
  },
  // sweep: refused before any work, nothing written
  {
    command: "sweep",
    args: sweepMaxTrials("1"),
    code: 2,
    names: /Grid has 2 combinations.*limit of 1/,
  },
  // One message for both (an audit: "at least 1" for 0, "an integer >= 0" for 1.5).
  ...["0", "1.5"].map((bad): BadInput => ({
    command: "sweep",
    args: sweepMaxTrials(bad),
    code: 2,
    names: new RegExp(`--max-trials must be an integer >= 1, got "${bad.replace(".", "\\.")}"`),
  })),
  {
    command: "sweep",
    args: ["sweep", "policy", "--root", ROOT, ...SAMPLE, "--no-index", "--grid", GRID_BAD],
    code: 2,
    names: /combination 2 of 2 \{"stopPct":7\}.*stopPct must be <= 1/,
  },
  {
    command: "sweep",
    args: ["sweep", "policy", "--root", ROOT, ...SAMPLE],
    code: 2,
    names: /--grid/,
  },
  {
    command: "sweep",
    args: ["sweep", "policy", "--root", ROOT, ...SAMPLE, "--grid", JSON_TYPO],
    code: 2,
    names: /--grid: Grid is not valid JSON .* at line 3 column 13/,
  },
  // A repeated key: JSON.parse kept the last, and the run used 0.5 without a word.
  {
    command: "sweep",
    args: [
      ...["sweep", "policy", "--root", ROOT, ...SAMPLE, "--no-index", "--grid"],
      '{"type":"fixed_stop","stopPct":[0.2],"stopPct":[0.3]}',
    ],
    code: 2,
    names: /--grid: Grid gives stopPct twice: keep one/,
  },
  {
    command: "backtest",
    args: [
      ...["backtest", "policy", "--root", ROOT, ...SAMPLE, "--no-index", "--policy"],
      '{"type":"combo","policies":[{"type":"time_stop","maxHoldMs":1,"maxHoldMs":2}]}',
    ],
    code: 2,
    names: /--policy: Invalid policy: policies\.0\.maxHoldMs is given twice: keep one/,
  },
  {
    command: "sweep",
    args: ["sweep", "policy", "--root", ROOT, ...SAMPLE, "--grid", GRID_2, "--objective", "luck"],
    code: 2,
    names: /--objective must be one of/,
  },
  {
    command: "sweep",
    args: ["sweep", "policy", "--root", ROOT, "--grid", "@{S}/nope.json"],
    code: 2,
    names: /nope\.json/,
  },
  // rerun
  {
    // run-a is in the log and the index but has no run folder: nothing to rerun (SPEC 11: exit 1).
    command: "rerun",
    args: ["rerun", "run-a", "--root", ROOT],
    code: 1,
    names: /Run "run-a" is not among the runs with a manifest\.json/,
  },
  { command: "rerun", args: ["rerun", "zzz", "--root", ROOT], code: 1, names: /"zzz"/ },
  {
    command: "rerun",
    args: ["rerun", PATH_ID, "--root", ROOT],
    code: 2,
    names: /RUN_ID must match/,
  },
  { command: "rerun", args: ["rerun", "--root", ROOT], code: 2, names: /RUN_ID/ },
  // verify
  { command: "verify", args: ["verify", "--root", ROOT, "--bogus"], code: 2, names: /--bogus/ },
  {
    command: "verify",
    args: ["verify", "--root", "{S}/missing"],
    code: 1,
    names: /missing does not exist/,
  },
  {
    command: "verify",
    args: ["verify", "--root", "{S}/dangling"],
    code: 1,
    names: /dangling does not exist/,
  },
  { command: "verify", args: ["verify", "--root", ROOT, "extra"], code: 2, names: /extra/ },
  // the dispatcher
  { command: "verify", args: ["explode", "--root", ROOT], code: 2, names: /explode/ },
  // the query surface (SPEC 11): expressions, fields, formats, prefixes, --out
  ...queryCases(),
];

function queryCases(): BadInput[] {
  const q = (command: string, args: string[], code: 1 | 2, names: RegExp): BadInput => ({
    command,
    args: [command, "--root", ROOT, ...args],
    code,
    names,
  });
  return [
    q("runs", ["--where", "status = "], 2, /column 10/),
    q("runs", ["--where", "(status = 'failed'"], 2, /column 19/),
    q("runs", ["--where", "bogus.x = 1"], 2, /bogus\.x.*column 1/),
    q("runs", ["--where", `run_id = 'x' ; DROP TABLE events`], 2, /";"/),
    q("runs", ["--sort", "nope:desc"], 2, /nope/),
    q("runs", ["--columns", "config.a..b"], 2, /config\.a\.\.b/),
    q("runs", ["--format", "xml"], 2, /format/),
    q("runs", ["--since", "yesterday"], 2, /yesterday/),
    q("show", ["run-"], 2, /ambiguous.*run-a, run-b/),
    q("compare", ["run-a", "zzz"], 1, /zzz/),
    q("compare", ["run-", "run-a"], 2, /ambiguous/),
    q("compare", ["run-a"], 2, /two/),
    q("compare", ["", "run-a"], 2, /RUN must not be empty/),
    q("trials", ["--run", "zzz"], 1, /zzz/),
    q("trials", ["--run", "run-"], 2, /ambiguous/),
    q("trials", ["--where", "params.x >"], 2, /column 11/),
    q("trials", ["--format", "yaml"], 2, /format/),
    q("tag", ["run-a"], 2, /key=value/),
    q("tag", ["zzz", "a=b"], 1, /zzz/),
    q("tag", ["run-", "a=b"], 2, /ambiguous/),
    q("tag", ["run-a", "bad key=1"], 2, /bad key/),
    q("note", ["zzz", "hello"], 1, /zzz/),
    q("note", ["run-a"], 2, /TEXT/),
    q("archive", ["zzz"], 1, /zzz/),
    q("restore", ["run-"], 2, /ambiguous/),
    q("sql", ["DROP TABLE runs_d"], 1, /DROP|read-only/),
    q("sql", ["SELECT * FROM read_text('/etc/passwd')"], 1, /disabled|Permission/),
    q("sql", [], 2, /QUERY/),
    q("sql", ["SELECT 1", "--format", "xml"], 2, /format/),
    // A --db that is no index: named (it was DuckDB's "Cannot launch in-memory database").
    q("runs", ["--db", "{S}/stray.txt"], 1, /stray\.txt is not a DuckDB database: not a ledger/),
    q("report", ["--db", "{S}/stray.txt", "--out", "{S}/r.html"], 1, /not a ledger index/),
    // An empty file not named like an index (DuckDB's "exists, but it is not a valid DuckDB
    // database file!" before: a bad-input probe).
    q(
      "runs",
      ["--db", "{S}/empty.db"],
      1,
      /empty\.db is an empty file, not a DuckDB database: not/,
    ),
    q("sql", ["SELECT 1", "--db", "{S}/empty.db"], 1, /empty\.db is an empty file, not a DuckDB/),
    // The legacy file as --db: not "rebuild it", which rebuild-index refuses.
    q("show", ["run-a", "--db", "{S}/notindex.duckdb"], 1, /notindex\.duckdb .*without index_meta/),
    q("report", ["--db", "{S}/notindex.duckdb", "--out", "{S}/r.html"], 1, /without index_meta/),
    // A damaged index is one to rebuild (rebuild-index heals a *.duckdb), not "give --db".
    q("runs", ["--db", "{S}/zeros.duckdb"], 1, /zeros\.duckdb is damaged .*rebuild it with/),
    q(
      "show",
      ["run-a", "--db", "{S}/empty.duckdb"],
      1,
      /empty\.duckdb is damaged \(an empty file\)/,
    ),
    // An older format is refused by every reader, not read by its old rules (an upgrade audit:
    // runs refused it, show, trials, compare and tag read it).
    q("show", ["run-a", "--db", "{S}/old.duckdb"], 1, /another version of ledger \(index format 5/),
    q("trials", ["--db", "{S}/old.duckdb"], 1, /index format 5/),
    q("compare", ["run-a", "run-b", "--db", "{S}/old.duckdb"], 1, /index format 5/),
    q("tag", ["run-a", "k=v", "--db", "{S}/old.duckdb"], 1, /index format 5/),
    // A view index_meta reading another file is not read with external access on (a review:
    // export and report printed the file's text in the format error).
    ...["runs", "export", "report"].map((command) =>
      q(
        command,
        [
          ...(command === "export" ? ["runs", "--format", "csv"] : []),
          ...(command === "runs" ? [] : ["--out", "{S}/leak.out"]),
          "--db",
          "{S}/evil.duckdb",
        ],
        1,
        /^(?!.*TOP-SECRET).*(Permission Error|disabled)/,
      )
    ),
    // The UI refuses at start, as runs does (it served 503 pages).
    q("ui", ["--db", "{S}/stray.txt", "--port", "0"], 1, /stray\.txt is not a DuckDB database/),
    q("ui", ["--db", "{S}/old.duckdb", "--port", "0"], 1, /index format 5/),
    q("export", ["runs", "--format", "xlsx", "--out", "{S}/x.xlsx"], 2, /format/),
    // Usage errors before any work, as in report (they were 1, after the query).
    q("export", ["runs", "--format", "csv", "--out", "{S}/nodir/x.csv"], 2, /nodir/),
    q("export", ["runs", "--format", "csv", "--out", "{S}/ledger"], 2, /directory/),
    q("export", ["things", "--format", "csv", "--out", "{S}/x.csv"], 2, /things/),
    q("export", ["runs", "--out", "{S}/x.csv"], 2, /--format/),
    q("export", ["runs", "--format", "csv", "--out", "{S}/x.csv", "--where", "x = 1"], 2, /"x"/),
  ];
}

/** A log with two runs, its index, a stray file and a dangling symlink. */
async function buildTemplate(dir: string): Promise<void> {
  const root = join(dir, "ledger");
  const writer = await openWriter(root);
  await writer.appendBatch([...sampleInputs("run-a").slice(0, 8), ...sampleInputs("run-b")]);
  await writer.close();
  await rebuildIndex(root);
  await Deno.writeTextFile(join(dir, "stray.txt"), "not a ledger\n");
  await createLegacyDb(join(dir, "notindex.duckdb"), []); // a DuckDB file, no index_meta
  // An index damaged on disk (zeros), and one an older ledger built (format 5).
  await Deno.writeFile(join(dir, "zeros.duckdb"), new Uint8Array(16384));
  await Deno.writeFile(join(dir, "empty.duckdb"), new Uint8Array(0));
  await Deno.writeFile(join(dir, "empty.db"), new Uint8Array(0));
  await Deno.copyFile(join(root, "index", "runs.duckdb"), join(dir, "old.duckdb"));
  const instance = await DuckDBInstance.create(join(dir, "old.duckdb"));
  const conn = await instance.connect();
  await conn.run("UPDATE index_meta SET value = '5' WHERE key = 'format_version'");
  conn.disconnectSync();
  instance.closeSync();
  // An index_meta that is a view reading another file: what it reads must never be printed.
  await Deno.writeTextFile(join(dir, "secret.txt"), "TOP-SECRET-42\n");
  const evil = await DuckDBInstance.create(join(dir, "evil.duckdb"));
  const evilConn = await evil.connect();
  await evilConn.run(
    `CREATE VIEW index_meta AS SELECT 'format_version' AS key, content AS value ` +
      `FROM read_text('${join(dir, "secret.txt")}')`,
  );
  evilConn.disconnectSync();
  evil.closeSync();
  await Deno.symlink(join(dir, "gone"), join(dir, "dangling"));
}

async function copyTree(from: string, to: string): Promise<void> {
  const out = await new Deno.Command("cp", { args: ["-a", `${from}/.`, to] }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

function fill(text: string, sandbox: string): string {
  return text.replaceAll("{S}", sandbox);
}

async function runCase(c: BadInput, template: string): Promise<string | undefined> {
  const sandbox = await Deno.makeTempDir({ prefix: "ledger_bad_" });
  try {
    await copyTree(template, sandbox);
    const before = await hashTree(sandbox);
    const args = c.args.map((a) => fill(a, sandbox));
    const stdin = typeof c.stdin === "string" ? fill(c.stdin, sandbox) : c.stdin;
    const r = await runLedger(args, { stdin, cwd: sandbox });
    const label = `ledger ${c.args.join(" ").slice(0, 120)}`;
    const lines = r.stderr.trim().split("\n");
    if (c.code === "nonzero" ? r.code === 0 : r.code !== c.code) {
      return `${label}: exit ${r.code}, wanted ${c.code} (${r.stderr.trim()})`;
    }
    if (lines.length !== 1 || lines[0] === "") {
      return `${label}: stderr is not one line: ${r.stderr}`;
    }
    if (!c.names.test(lines[0])) return `${label}: "${lines[0]}" does not name ${c.names}`;
    if (r.stdout !== "") return `${label}: printed on stdout: ${r.stdout.slice(0, 200)}`;
    if ((await hashTree(sandbox)) !== before) return `${label}: changed the disk`;
    return undefined;
  } finally {
    await Deno.remove(sandbox, { recursive: true });
  }
}

Deno.test("bad input catalog: non-zero exit, one line naming the problem, nothing changed", async () => {
  await withTempDir(async (template) => {
    await buildTemplate(template);
    const failures: string[] = [];
    for (let i = 0; i < CASES.length; i += PARALLEL_CASES) {
      const batch = CASES.slice(i, i + PARALLEL_CASES);
      const results = await Promise.all(batch.map((c) => runCase(c, template)));
      for (const failure of results) if (failure !== undefined) failures.push(failure);
    }
    const commands = new Set(CASES.map((c) => c.command));
    console.log(
      `bad input: ${CASES.length} cases over ${commands.size} commands, ` +
        `${CASES.length - failures.length} refused cleanly`,
    );
    assert.deepEqual(failures, []);
    assert.ok(CASES.length >= 40, `at least 40 cases, ran ${CASES.length}`);
  });
});

// Issue 4 asks that an impossible policy fail the run with run.failed recorded
// (a complete trail), so this one bad input writes a failed run on purpose:
// everything else in the catalog leaves the disk unchanged.
Deno.test("bad input: an impossible --policy is a usage error that names the field and writes nothing", async () => {
  await withTempDir(async (dir) => {
    const root = join(dir, "ledger");
    const r = await runLedger([
      "backtest",
      "policy",
      "--root",
      root,
      ...SAMPLE,
      "--policy",
      '{"type":"fixed_stop","stopPct":1.5}',
      "--no-index",
    ], { cwd: dir });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /stopPct must be <= 1/);
    // No failed run, no run folder: the root was never created.
    assert.equal(await Deno.stat(root).then(() => true, () => false), false);
  });
});
