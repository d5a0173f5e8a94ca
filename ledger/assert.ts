/**
 * Invariant checks (STYLE, TIGER_STYLE "assert invariants"). A failed
 * assertion is a bug in ledger, never bad input: it stops loudly with an
 * {@linkcode AssertionError} naming the broken invariant. Bad input gets a
 * `ValidationError` or a `UsageError` instead.
 *
 * @module
 */

/** A broken invariant: a bug, not bad input. */
export class AssertionError extends Error {
  /**
   * The error for the broken `invariant` (a sentence saying what should hold).
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { AssertionError } from "./assert.ts";
   * assert.equal(new AssertionError("x").message, "Invariant broken: x");
   * ```
   */
  constructor(invariant: string) {
    super(`Invariant broken: ${invariant}`);
    this.name = "AssertionError";
  }
}

/**
 * Throw {@linkcode AssertionError} with `invariant` unless `condition` holds.
 *
 * @example
 * ```ts
 * import { assert } from "./assert.ts";
 * const offset = 10;
 * assert(offset >= 0, "an offset is never negative");
 * ```
 */
export function assert(condition: unknown, invariant: string): asserts condition {
  if (!condition) throw new AssertionError(invariant);
}
