/**
 * DuckDB memory limits on the command line (`--memory-limit` of
 * `rebuild-index`, `daemon` and the commands that stream rows): checking a
 * size such as `512MB` and turning it into bytes. No DuckDB import, so the
 * query commands can check the flag without loading the indexer.
 *
 * @module
 */

/** `--memory-limit` is not a size DuckDB takes. */
export class InvalidMemoryLimitError extends Error {
  /** The value given. */
  readonly value: string;
  /** Create the error for `value`. */
  constructor(value: string) {
    super(
      `Invalid --memory-limit ${JSON.stringify(value)}: expected a size such as 512MB, 1.5GB ` +
        `or 2GiB (at least 64MB)`,
    );
    this.name = "InvalidMemoryLimitError";
    this.value = value;
  }
}

const MEMORY_UNITS: Record<string, number> = {
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};
/** Smallest accepted memory limit, in bytes. */
const MEMORY_LIMIT_MIN_BYTES = 64e6;

/**
 * Check a memory limit (`512MB`, `1.5GB`, `2GiB`) and return it in the form
 * DuckDB takes; throws {@linkcode InvalidMemoryLimitError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseMemoryLimit } from "./memory_limit.ts";
 * assert.equal(parseMemoryLimit("1.5 GB"), "1.5GB");
 * ```
 */
export function parseMemoryLimit(value: string): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b)\s*$/i.exec(value);
  if (m === null) throw new InvalidMemoryLimitError(value);
  const bytes = Number(m[1]) * MEMORY_UNITS[m[2].toLowerCase()];
  if (!Number.isFinite(bytes) || bytes < MEMORY_LIMIT_MIN_BYTES) {
    throw new InvalidMemoryLimitError(value);
  }
  return `${m[1]}${m[2].toUpperCase().replace("IB", "iB")}`;
}

/** Bytes of a memory limit checked by {@linkcode parseMemoryLimit}. */
export function memoryLimitBytes(memoryLimit: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgt]i?b)$/i.exec(memoryLimit);
  if (m === null) throw new InvalidMemoryLimitError(memoryLimit);
  return Number(m[1]) * MEMORY_UNITS[m[2].toLowerCase()];
}
