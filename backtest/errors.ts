/**
 * Error classes of the backtest workflows. Each names the thing that is wrong
 * and the bad value, in one sentence-case line, so the CLI can print it as is.
 *
 * @module
 */

/**
 * An input file cannot be used: it does not exist, cannot be read, has an
 * unknown format, or holds values that do not parse.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { InputError } from "./errors.ts";
 * const err = new InputError("Calls file calls.csv does not exist");
 * assert.equal(err.name, "InputError");
 * ```
 */
export class InputError extends Error {
  /** Create an input error with a one-line message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "InputError";
  }
}

/**
 * An input file lacks columns the backtest needs. `file` is the path as
 * given, `columns` the missing column names in the order they are required.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { MissingColumnsError } from "./errors.ts";
 * const err = new MissingColumnsError("Calls", "calls.csv", ["mint", "alert_ts"]);
 * assert.equal(err.message, "Calls file calls.csv is missing columns: mint, alert_ts");
 * const empty = new MissingColumnsError("Calls", "calls.csv", ["mint"], { empty: true });
 * assert.equal(empty.message, "Calls file calls.csv is empty (0 bytes), so it is missing columns: mint");
 * ```
 */
export class MissingColumnsError extends InputError {
  /** The file that lacks the columns. */
  readonly file: string;
  /** The missing column names. */
  readonly columns: string[];
  /**
   * Create the error for `file` (described as `what`, e.g. "Calls") missing
   * `columns`; `empty` when the file has no byte at all, which is said first
   * (a probe: an empty file was only "missing columns", as if it had others).
   */
  constructor(what: string, file: string, columns: string[], options: { empty?: boolean } = {}) {
    const why = options.empty === true ? "is empty (0 bytes), so it " : "";
    super(`${what} file ${file} ${why}is missing columns: ${columns.join(", ")}`);
    this.name = "MissingColumnsError";
    this.file = file;
    this.columns = columns;
  }
}

/**
 * A policy does not validate. `field` is the dotted path of the bad field
 * (`stopPct`, `levels.0.fraction`, `policies.1.trailPct`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { PolicyError } from "./errors.ts";
 * const err = new PolicyError("stopPct", "stopPct must be <= 1");
 * assert.equal(err.message, "Invalid policy: stopPct must be <= 1");
 * ```
 */
export class PolicyError extends Error {
  /** Dotted path of the offending field, or `policy` for the whole value. */
  readonly field: string;
  /** Create a policy error for `field` with the detail `reason`. */
  constructor(field: string, reason: string) {
    super(`Invalid policy: ${reason}`);
    this.name = "PolicyError";
    this.field = field;
  }
}

/**
 * No call of the run has a candle at or after its alert time, so there is
 * nothing to compute.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CoverageError } from "./errors.ts";
 * const err = new CoverageError("No call has candles at or after its alert: 0 of 3 covered");
 * assert.equal(err.name, "CoverageError");
 * ```
 */
export class CoverageError extends Error {
  /** Create a coverage error with a one-line message. */
  constructor(message: string) {
    super(message);
    this.name = "CoverageError";
  }
}
