/**
 * ledger: the run ledger for backtests. Backtest processes append immutable
 * events to a JSONL log (many writers, no locks); one indexer turns the log
 * into a DuckDB index (one writer, many readers); backtests emit the events
 * the ledger exists for.
 *
 * This module only re-exports the public API of `ledger/` (events, writer,
 * reader, emitter), `indexer/` (rebuild, daemon, queries, legacy adapter) and
 * `backtest/` (data, metrics, policies, workflows, artifacts), plus the
 * command line's entry point.
 *
 * @example
 * ```ts ignore
 * import { getEventEmitter } from "./mod.ts";
 * const emitter = getEventEmitter({ root: "data/ledger" });
 * await emitter.runCreated("run-1", { run_type: "policy", config: {}, data_fingerprint: "fp" });
 * ```
 *
 * @module
 */
export * from "./ledger/mod.ts";
export * from "./indexer/mod.ts";
export * from "./backtest/mod.ts";
export { run } from "./cli/ledger.ts";
