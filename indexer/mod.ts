/**
 * The indexer: builds the DuckDB index (SPEC 7) from the event log, keeps it
 * up to date (daemon) and answers the readers' queries. Re-exports only.
 *
 * @module
 */
export {
  CraftedIndexError,
  EmptyLogError,
  ForeignIndexFileError,
  IndexEndpointError,
  IndexSourceError,
  InvalidDateError,
  InvalidMemoryLimitError,
  LOCAL_SOURCE,
  MEMORY_LIMIT_DEFAULT,
  parseDay,
  parseMemoryLimit,
  RebuildError,
  rebuildIndex,
  RebuildInterruptedError,
  type RebuildOptions,
  type RebuildReport,
  STALE_AFTER_MS_DEFAULT,
} from "./rebuild.ts";
export {
  acquireDaemonLock,
  DAEMON_INTERVAL_MS_DEFAULT,
  type DaemonLock,
  DaemonLockedError,
  daemonLockPath,
  type DaemonLogEntry,
  type DaemonLogLevel,
  type DaemonOptions,
  type DaemonSummary,
  formatLogEntry,
  runDaemon,
} from "./daemon.ts";
export {
  type ArtifactRow,
  type BaselineRow,
  getRun,
  IndexDamagedError,
  IndexFormatError,
  IndexNotFoundError,
  listRuns,
  type ListRunsOptions,
  NotAnIndexError,
  type NoteRow,
  type PhaseRow,
  ReaderMemoryError,
  RUN_STATUSES,
  type RunDetail,
  type RunRow,
  type RunStatus,
  type TrialRow,
} from "./queries.ts";
// Errors a rebuild or a query (here, or through `legacy/dual.ts`) can throw
// from the modules beneath it, so a library user can tell them apart.
export { ProcessTableHiddenError } from "./_liveness.ts";
export { AmbiguousRunError, RunNamedTwiceError, UnknownRunError } from "./query/resolve.ts";
export { QueryUsageError } from "./query/runs.ts";
export { UnknownFieldError } from "./query/fields.ts";
export { FilterSyntaxError } from "./query/filter.ts";
export { InstantFormatError } from "./query/time.ts";
export { StreamTruncatedError } from "./query/reader.ts";
