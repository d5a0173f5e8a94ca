/**
 * The part files of a log, listed in reading order (zod-free: `ledger emit`
 * looks for a run's events without loading the registry). `reader.ts`
 * re-exports them.
 *
 * @module
 */
import { join } from "./_path.ts";
import { UnreachableDayError } from "./errors.ts";
import { DAY_DIR_PATTERN, eventsDir, PART_FILE_PATTERN } from "./paths.ts";

/**
 * A part file of the log.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listParts, type PartFile } from "./parts.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   await Deno.mkdir(`${root}/events/day=2026-01-23`, { recursive: true });
 *   await Deno.writeTextFile(`${root}/events/day=2026-01-23/part-000001.jsonl`, "{}\n");
 *   const [part]: PartFile[] = await listParts(root);
 *   assert.equal(part.day, "2026-01-23");
 *   assert.equal(part.file, "day=2026-01-23/part-000001.jsonl");
 *   assert.equal(part.path, `${root}/events/${part.file}`);
 *   assert.equal(part.sizeBytes, 3);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface PartFile {
  /** The UTC day of its partition, `YYYY-MM-DD`. */
  day: string;
  /** Path relative to the events directory: `day=YYYY-MM-DD/part-....jsonl`. */
  file: string;
  /** Full path. */
  path: string;
  /** Size when listed, in bytes. */
  sizeBytes: number;
}

/**
 * Options for {@linkcode listParts}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listParts, type ListPartsOptions } from "./parts.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   for (const day of ["2026-01-22", "2026-01-23", "2026-01-24"]) {
 *     await Deno.mkdir(`${root}/events/day=${day}`, { recursive: true });
 *     await Deno.writeTextFile(`${root}/events/day=${day}/part-000001.jsonl`, "");
 *   }
 *   const options: ListPartsOptions = { fromDay: "2026-01-23" }; // that day included
 *   const days = (await listParts(root, options)).map((part) => part.day);
 *   assert.deepEqual(days, ["2026-01-23", "2026-01-24"]);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export interface ListPartsOptions {
  /** Only days on or after this UTC day (`YYYY-MM-DD`). @default {undefined} (all days) */
  fromDay?: string;
  /**
   * Told each day folder that is a link leading to no folder, which is then
   * left out (a look-up that can do without it). Without it, such a day
   * throws {@linkcode UnreachableDayError}. @default {undefined}
   */
  onUnreachableDay?: (err: UnreachableDayError) => void;
}

/**
 * Whether the entry `entry` of the events directory `dir` is a folder to
 * read as a day: a directory, or a symbolic link to one (old days moved to
 * another disk and linked back). Every reader of the log asks this, so that
 * what a writer appends through a link is what they read. A probe: writers
 * appended through a linked day folder and printed the event ids, which
 * `rebuild-index`, `verify` and `ship` then skipped. A link that leads to no
 * folder (dangling: its disk not mounted; a loop; a file) throws
 * {@linkcode UnreachableDayError}: left out, its runs left the index.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isDayFolder } from "./parts.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.mkdir(`${dir}/elsewhere`);
 *   await Deno.symlink(`${dir}/elsewhere`, `${dir}/day=2026-01-23`);
 *   await Deno.symlink(`${dir}/gone`, `${dir}/day=2026-01-24`);
 *   await Deno.writeTextFile(`${dir}/day=2026-01-25`, "");
 *   const kinds: Record<string, boolean | string> = {};
 *   for await (const entry of Deno.readDir(dir)) {
 *     kinds[entry.name] = await isDayFolder(dir, entry).catch((err) => err.name);
 *   }
 *   assert.deepEqual(kinds, {
 *     elsewhere: true,
 *     "day=2026-01-23": true,
 *     "day=2026-01-24": "UnreachableDayError",
 *     "day=2026-01-25": false,
 *   });
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function isDayFolder(dir: string, entry: Deno.DirEntry): Promise<boolean> {
  if (entry.isDirectory) return true;
  if (!entry.isSymlink) return false;
  const path = join(dir, entry.name);
  const why = await deadEnd(path);
  if (why === undefined) return true;
  throw new UnreachableDayError(entry.name, await linkTarget(path), why);
}

/**
 * Why `path`, through its links, leads to no folder (`not there`, `a loop of
 * links`, `not a folder`), or undefined when it leads to one. The one
 * reading of a day link for the readers ({@linkcode isDayFolder}) and the
 * writers (a dead batch's marker kept while its day cannot be reached).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { deadEnd } from "./parts.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.symlink(`${dir}/gone`, `${dir}/day=2026-01-24`);
 *   assert.equal(await deadEnd(dir), undefined);
 *   assert.equal(await deadEnd(`${dir}/day=2026-01-24`), "not there");
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function deadEnd(path: string): Promise<string | undefined> {
  try {
    return (await Deno.stat(path)).isDirectory ? undefined : "not a folder";
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "not there";
    if (err instanceof Deno.errors.FilesystemLoop) return "a loop of links";
    if (err instanceof Deno.errors.NotADirectory) return "not a folder";
    throw err;
  }
}

/** {@linkcode isDayFolder}, or `false` for a link to no folder when `onUnreachable` is given. */
async function isDayFolderOr(
  dir: string,
  entry: Deno.DirEntry,
  onUnreachable: ((err: UnreachableDayError) => void) | undefined,
): Promise<boolean> {
  try {
    return await isDayFolder(dir, entry);
  } catch (err) {
    if (!(err instanceof UnreachableDayError) || onUnreachable === undefined) throw err;
    onUnreachable(err);
    return false;
  }
}

/** What the link at `path` holds, or `?` when it is gone since it was listed. */
async function linkTarget(path: string): Promise<string> {
  try {
    return await Deno.readLink(path);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "?"; // removed since listed
    throw err;
  }
}

/**
 * List the part files of the log in reading order: day, then file name.
 * A missing events directory is an empty log.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { listParts } from "./parts.ts";
 * import { openWriter } from "./writer.ts";
 * const root = await Deno.makeTempDir();
 * try {
 *   const writer = await openWriter(root);
 *   await writer.append({ event_type: "run.started", run_id: "r1" });
 *   await writer.close();
 *   const parts = await listParts(root);
 *   assert.equal(parts.length, 1);
 *   assert.ok(parts[0].file.startsWith("day=") && parts[0].sizeBytes > 0);
 * } finally {
 *   await Deno.remove(root, { recursive: true });
 * }
 * ```
 */
export async function listParts(root: string, options: ListPartsOptions = {}): Promise<PartFile[]> {
  // Compared as text with the folder names: `2026-1-23` or an instant would skip days in silence.
  if (options.fromDay !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(options.fromDay)) {
    throw new RangeError(
      `fromDay must be a UTC day YYYY-MM-DD, got ${JSON.stringify(options.fromDay)}`,
    );
  }
  const dir = eventsDir(root);
  const days: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const match = DAY_DIR_PATTERN.exec(entry.name);
      if (match && (options.fromDay === undefined || match[1] >= options.fromDay)) {
        if (await isDayFolderOr(dir, entry, options.onUnreachableDay)) days.push(match[1]);
      }
    }
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return [];
    throw err;
  }
  days.sort();
  const parts: PartFile[] = [];
  for (const day of days) {
    const names: string[] = [];
    for await (const entry of Deno.readDir(join(dir, `day=${day}`))) {
      if (entry.isFile && PART_FILE_PATTERN.test(entry.name)) names.push(entry.name);
    }
    names.sort();
    for (const name of names) {
      const file = `day=${day}/${name}`;
      const path = join(dir, file);
      let sizeBytes: number;
      try {
        sizeBytes = (await Deno.stat(path)).size;
      } catch (err) {
        // Removed since it was listed, or a name that is not UTF-8 (listed with U+FFFD in
        // place of its bytes, so no such path): not a part this can read (verify names it).
        // An audit: one such stray file made every emit of run.created fail.
        if (err instanceof Deno.errors.NotFound) continue;
        throw err;
      }
      parts.push({ day, file, path, sizeBytes });
    }
  }
  return parts;
}
