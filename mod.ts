/**
 * ledger: the run ledger for backtests. Backtests append events to a JSONL
 * log; an indexer builds a DuckDB index from it.
 *
 * This module only re-exports the public API of `ledger/`, `indexer/` and
 * `backtest/`.
 *
 * @module
 */
export { run } from "./cli/ledger.ts";
