/**
 * A write past the process's file size limit (`ulimit -f`, `RLIMIT_FSIZE`)
 * makes the kernel send `SIGXFSZ`, whose default action ends the process:
 * a backtest died (exit 153) with a torn last line, and the emitter, which
 * never throws into the backtest (SPEC 6), had no chance to count the
 * failure (an audit). With the signal handled, the write fails with
 * `EFBIG` instead, which the writers turn into a `WriteError` and roll back.
 * The listener is process-wide and does nothing else: a host program's own
 * writes past the limit fail the same way instead of killing it.
 *
 * @module
 */

let ignoring = false;

/**
 * Handle `SIGXFSZ` for the rest of the process (once; a no-op where Deno
 * has no such signal, as on Windows). Does not keep the process alive.
 *
 * @example
 * ```ts
 * import { ignoreFileSizeSignal } from "./file_size_signal.ts";
 * ignoreFileSizeSignal();
 * ignoreFileSizeSignal(); // once is enough: the second call does nothing
 * ```
 */
export function ignoreFileSizeSignal(): void {
  if (ignoring || Deno.build.os === "windows") return;
  ignoring = true;
  Deno.addSignalListener("SIGXFSZ", onFileSizeSignal);
}

function onFileSizeSignal(): void {
  // The write that went past the limit fails with EFBIG: its caller says so.
}
