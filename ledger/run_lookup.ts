/**
 * Does the log already know a run id? Used to refuse a second run under an
 * id the log has (a backtest's `--run-id`, `emit` of `run.created`): two runs
 * under one id would merge in the index.
 *
 * The log is the truth, so this reads it, but cheaply: each part file is
 * searched for the quoted id as bytes, and only the lines that contain it are
 * parsed. Run ids match `RUN_ID_PATTERN` (no character JSON escapes), so a
 * line of that run always holds `"<run_id>"` verbatim.
 *
 * @module
 */
import { listParts } from "./parts.ts";
import { parseJsonText } from "./json_text.ts";

/** One event of the run found in the log. */
export interface FoundRunEvent {
  /** Its `event_id`. */
  eventId: string;
  /** Its `event_type`. */
  eventType: string;
  /** The part file, relative to the events directory. */
  file: string;
}

/** Options for {@linkcode findRunEvents}. */
export interface FindRunEventsOptions {
  /** Only events of this type. @default {undefined} (every type) */
  eventType?: string;
  /** Stop after this many matches. @default {Infinity} */
  limit?: number;
}

/**
 * The events of run `runId` in the log under `root` (lines that are not
 * JSON objects are skipped: `verify` reports them). A missing log has none.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { findRunEvents } from "./run_lookup.ts";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   const started = await writer.append({ event_type: "run.started", run_id: "policy-1" });
 *   await writer.close();
 *   const found = await findRunEvents(root, "policy-1", { limit: 1 });
 *   assert(found.length === 1 && found[0].eventId === started.event_id);
 *   assert((await findRunEvents(root, "policy-2")).length === 0);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function findRunEvents(
  root: string,
  runId: string,
  options: FindRunEventsOptions = {},
): Promise<FoundRunEvent[]> {
  const limit = options.limit ?? Infinity;
  const needle = JSON.stringify(runId);
  const found: FoundRunEvent[] = [];
  const decoder = new TextDecoder();
  for (const part of await listParts(root)) {
    let text: string;
    try {
      text = decoder.decode(await Deno.readFile(part.path));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) continue; // removed since listed
      throw err;
    }
    for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
      const start = text.lastIndexOf("\n", at) + 1;
      const endAt = text.indexOf("\n", at);
      const end = endAt < 0 ? text.length : endAt;
      const event = parseObject(text.slice(start, end));
      at = end;
      if (event === null || event.run_id !== runId) continue;
      if (options.eventType !== undefined && event.event_type !== options.eventType) continue;
      found.push({
        eventId: String(event.event_id),
        eventType: String(event.event_type),
        file: part.file,
      });
      if (found.length >= limit) return found;
    }
  }
  return found;
}

function parseObject(line: string): Record<string, unknown> | null {
  try {
    // Python's NaN/Infinity are read as null, as every reader does (SPEC 3).
    const value = parseJsonText(line);
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown>
      : null;
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // A torn or invalid line is verify's business; it names no run here.
    return null;
  }
}
