/**
 * ledger: the run ledger for backtests. Backtest processes append immutable
 * events to a JSONL log (many writers, no locks); one indexer turns the log
 * into a DuckDB index (one writer, many readers); backtests emit the events
 * the ledger exists for.
 *
 * This module only re-exports the public API of `ledger/` (events, writer,
 * reader, emitter), `indexer/` (rebuild, daemon, queries), `legacy/` (the dual-mode adapter) and
 * `backtest/` (data, metrics, policies, workflows, artifacts). It does not load
 * the command line (`cli/ledger.ts` is the entry point of the binary, not of the library).
 *
 * @example
 * ```ts
 * import { getEventEmitter } from "./mod.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const emitter = getEventEmitter({ root });
 *   await emitter.runCreated("run-1", { run_type: "policy", config: {}, data_fingerprint: "fp" });
 *   await emitter.close(); // its part files closed, and the root's emitter let go
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 *
 * @module
 */
export * from "./ledger/mod.ts";
export * from "./indexer/mod.ts";
export * from "./backtest/mod.ts";
export * from "./legacy/dual.ts";
