/**
 * One progress line that rewrites itself on a terminal (`\r`, erase to the
 * end of the line), for long commands without `--verbose`. On a pipe or a
 * file it prints nothing at all, so scripts and logs stay clean.
 *
 * @module
 */

/** How often the line may be redrawn, in ms. */
const REDRAW_MS = 200;
/** A line shows up only once the command has run this long, in ms (small logs: nothing). */
const SHOW_AFTER_MS = 1_000;

/** A live progress line. */
export interface ProgressLine {
  /** Show `message` (a step of the command). */
  message(message: string): void;
  /** Show how much of `totalBytes` has been read. */
  read(doneBytes: number, totalBytes: number): void;
  /** Erase the line (before the command prints its result). */
  clear(): void;
}

/**
 * A progress line on `stream`, or `undefined` when it is not a terminal.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { progressLine } from "./_progress_line.ts";
 * // The CLI passes Deno.stderr; here a terminal that keeps what is drawn.
 * let drawn = "";
 * const terminal = {
 *   isTerminal: () => true,
 *   writeSync(p: Uint8Array) {
 *     drawn += new TextDecoder().decode(p);
 *     return p.length;
 *   },
 * };
 * const line = progressLine(terminal, "rebuild-index")!;
 * line.read(10 * 2 ** 20, 40 * 2 ** 20);
 * assert.equal(drawn, ""); // nothing in the first second: short commands stay quiet
 * await new Promise((resolve) => setTimeout(resolve, 1_100));
 * line.read(40 * 2 ** 20, 40 * 2 ** 20); // the last step is drawn at once
 * assert.match(drawn, /^\r\x1b\[Krebuild-index: read 40 of 40 MiB \(100%\) \(\d+ s\)$/);
 * line.clear(); // before the command prints its result
 * assert.ok(drawn.endsWith("\r\x1b[K"));
 * // On a pipe or a file there is no line at all.
 * const pipe = { isTerminal: () => false, writeSync: (p: Uint8Array) => p.length };
 * assert.equal(progressLine(pipe, "rebuild-index"), undefined);
 * ```
 */
export function progressLine(
  stream: { isTerminal(): boolean; writeSync(p: Uint8Array): number },
  command: string,
): ProgressLine | undefined {
  if (!stream.isTerminal()) return undefined;
  const encoder = new TextEncoder();
  const startMs = performance.now();
  let lastDrawMs = 0;
  let shown = false;
  let text = "";
  const width = () => {
    try {
      return Deno.consoleSize().columns;
    } catch (err) {
      if (err instanceof Error) return 80; // not a console after all: the usual width
      throw err;
    }
  };
  const draw = (force = false) => {
    const now = performance.now();
    if (now - startMs < SHOW_AFTER_MS || (!force && now - lastDrawMs < REDRAW_MS)) return;
    lastDrawMs = now;
    shown = true;
    const seconds = ((now - startMs) / 1000).toFixed(0);
    // Control characters (from a path or a message) would move the cursor: blank them.
    // deno-lint-ignore no-control-regex
    const full = `${command}: ${text} (${seconds} s)`.replace(/[\x00-\x1f\x7f]/g, " ");
    const max = Math.max(20, width() - 1);
    const cut = full.length > max ? full.slice(0, max - 1) + "…" : full;
    stream.writeSync(encoder.encode(`\r\x1b[K${cut}`));
  };
  return {
    message(message) {
      text = message;
      draw();
    },
    read(doneBytes, totalBytes) {
      const pct = totalBytes === 0 ? 100 : Math.floor((doneBytes / totalBytes) * 100);
      text = `read ${mib(doneBytes)} of ${mib(totalBytes)} MiB (${pct}%)`;
      draw(doneBytes === totalBytes);
    },
    clear() {
      if (shown) stream.writeSync(encoder.encode("\r\x1b[K"));
      shown = false;
    },
  };
}

function mib(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(0);
}
