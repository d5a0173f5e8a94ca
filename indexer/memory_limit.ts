/**
 * DuckDB memory limits on the command line (`--memory-limit` of
 * `rebuild-index`, `daemon` and the commands that stream rows): checking a
 * size such as `512MB` and turning it into bytes. No DuckDB import, so the
 * query commands can check the flag without loading the indexer.
 *
 * @module
 */

/**
 * `--memory-limit` is not a size DuckDB takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { InvalidMemoryLimitError, parseMemoryLimit } from "./memory_limit.ts";
 * assert.throws(() => parseMemoryLimit("lots"), (err) => err instanceof InvalidMemoryLimitError);
 * ```
 */
export class InvalidMemoryLimitError extends Error {
  /** The value given. */
  readonly value: string;
  /** Create the error for `value`. */
  constructor(value: string, bytesMin: number = MEMORY_LIMIT_MIN_BYTES) {
    super(
      `Invalid --memory-limit ${JSON.stringify(value)}: expected a size such as 512MB, 1.5GB ` +
        `or 2GiB (at least ${bytesMin / 1e6}MB, at most 1000TB)`,
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
/** Smallest accepted memory limit of a reader, in bytes. */
export const MEMORY_LIMIT_MIN_BYTES = 64e6;
/**
 * Smallest accepted memory limit of a rebuild (`rebuild-index`, `daemon`),
 * in bytes: at 64MB DuckDB ran out of memory on a 3 MB log (the check query
 * and a batch of lines); 128MB rebuilt 1M events (230 MB) in 34 s, 96MB a
 * 4 MB log.
 */
export const REBUILD_MEMORY_LIMIT_MIN_BYTES = 128e6;
/** Largest accepted memory limit, in bytes (DuckDB refuses what overflows its counters). */
const MEMORY_LIMIT_MAX_BYTES = 1e15;

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
export function parseMemoryLimit(value: string, bytesMin: number = MEMORY_LIMIT_MIN_BYTES): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b)\s*$/i.exec(value);
  if (m === null) throw new InvalidMemoryLimitError(value, bytesMin);
  const bytes = Number(m[1]) * MEMORY_UNITS[m[2].toLowerCase()];
  if (!Number.isFinite(bytes) || bytes < bytesMin || bytes > MEMORY_LIMIT_MAX_BYTES) {
    throw new InvalidMemoryLimitError(value, bytesMin);
  }
  return `${m[1]}${m[2].toUpperCase().replace("IB", "iB")}`;
}

/** Bytes of a memory limit checked by {@linkcode parseMemoryLimit}. */
export function memoryLimitBytes(memoryLimit: string): number {
  const m = /^(\d+(?:\.\d+)?)([kmgt]i?b)$/i.exec(memoryLimit);
  if (m === null) throw new InvalidMemoryLimitError(memoryLimit);
  return Number(m[1]) * MEMORY_UNITS[m[2].toLowerCase()];
}
