/**
 * SIGINT and SIGTERM as an abort signal, for a command that stops cleanly on
 * them (removes its temporary files, says so, exits 130 or 143) instead of
 * dying mid-write. Listens from creation until disposed (`using`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { STOP_EXIT_CODES, stopOnSignals } from "./_stop.ts";
 * {
 *   using stop = stopOnSignals();
 *   assert.equal(stop.signal.aborted, false);
 *   assert.equal(stop.caught, undefined);
 * } // the listeners are removed here
 * assert.equal(STOP_EXIT_CODES.SIGTERM, 143);
 * ```
 *
 * @module
 */

/** The signals a command stops on. */
export type StopSignal = "SIGINT" | "SIGTERM";

/** Exit code after each signal: 128 + its number, as shells report it. */
export const STOP_EXIT_CODES: Readonly<Record<StopSignal, number>> = {
  SIGINT: 130,
  SIGTERM: 143,
};

/**
 * What a stopped rebuild says: its temporary files are gone and the index is
 * as it was (`rebuild-index`, with or without `--from`).
 */
export function rebuildInterruptedLine(signal: StopSignal): string {
  return `ledger rebuild-index: interrupted by ${signal}; temporary files removed, ` +
    `the previous index is unchanged`;
}

/** The reason of the abort: which signal came. */
export class StopSignalError extends Error {
  /** The signal. */
  readonly signal: StopSignal;
  /** Create the error for `signal`. */
  constructor(signal: StopSignal) {
    super(`${signal} received`);
    this.name = "StopSignalError";
    this.signal = signal;
  }
}

/** What {@linkcode stopOnSignals} returns. */
export interface StopOnSignals extends Disposable {
  /** Aborted, with a {@linkcode StopSignalError}, on the first SIGINT or SIGTERM. */
  readonly signal: AbortSignal;
  /** The first signal received, or undefined. */
  readonly caught: StopSignal | undefined;
}

/** Listen for SIGINT and SIGTERM until disposed; the first one aborts `signal`. */
export function stopOnSignals(): StopOnSignals {
  const controller = new AbortController();
  let caught: StopSignal | undefined;
  const listeners = (["SIGINT", "SIGTERM"] as const).map((signal) => ({
    signal,
    handler: () => {
      caught ??= signal;
      controller.abort(new StopSignalError(signal));
    },
  }));
  for (const l of listeners) Deno.addSignalListener(l.signal, l.handler);
  return {
    signal: controller.signal,
    get caught() {
      return caught;
    },
    [Symbol.dispose]() {
      for (const l of listeners) Deno.removeSignalListener(l.signal, l.handler);
    },
  };
}

/**
 * Run a reading command's `body` with a signal that SIGINT and SIGTERM
 * abort: a reader given it (`WithIndexOptions.signal`) interrupts its query
 * and closes the index, which removes the spill directory a query past its
 * memory limit made beside it (a probe: Ctrl-C left 244-294 MB there). The
 * stop is said on stderr (`ledger sql: interrupted by SIGINT`) and is the
 * exit code (130 or 143); a signal that came once the query was done stops
 * nothing (the command's output is complete).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { stoppableRead } from "./_stop.ts";
 * assert.equal(await stoppableRead("sql", (signal) => Promise.resolve(signal.aborted ? 1 : 0)), 0);
 * ```
 */
export async function stoppableRead(
  command: string,
  body: (signal: AbortSignal) => Promise<number>,
): Promise<number> {
  using stop = stopOnSignals();
  try {
    return await body(stop.signal);
  } catch (err) {
    if (!(err instanceof StopSignalError)) throw err;
    console.error(`ledger ${command}: interrupted by ${err.signal}`);
    return STOP_EXIT_CODES[err.signal];
  }
}
