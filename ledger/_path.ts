/**
 * `join` and `dirname` for the write path without `node:path`: the first
 * `node:` import of a process costs about 10 ms here (Deno starts its Node
 * compatibility layer), a third of a `ledger emit` cold start beyond an
 * empty `deno run` (issue 16). On POSIX these are Node's own algorithms
 * (same results, `tests/ledger/path_test.ts` compares them on thousands of
 * paths); on Windows `node:path` itself is loaded, on demand.
 *
 * @module
 */
import type * as NodePath from "node:path";

/** `node:path` on Windows (drive letters, UNC paths), else undefined. */
const win32: typeof NodePath | undefined = Deno.build.os === "windows"
  ? await import("node:path")
  : undefined;

const SLASH = 47; // "/"
const DOT = 46; // "."

/**
 * Join path segments and normalize the result, as `node:path`'s `join`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { join } from "./_path.ts";
 * assert.equal(join("data/ledger/", "events", "day=2026-01-23"), "data/ledger/events/day=2026-01-23");
 * assert.equal(join("./data", "..", "x"), "x");
 * ```
 */
export function join(...segments: string[]): string {
  if (win32 !== undefined) return win32.join(...segments);
  let joined: string | undefined;
  for (const segment of segments) {
    if (segment.length > 0) joined = joined === undefined ? segment : `${joined}/${segment}`;
  }
  return joined === undefined ? "." : normalize(joined);
}

/**
 * The directory part of a path, as `node:path`'s `dirname`.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { dirname } from "./_path.ts";
 * assert.equal(dirname("/data/ledger/events/"), "/data/ledger");
 * assert.equal(dirname("runs.duckdb"), ".");
 * ```
 */
export function dirname(path: string): string {
  if (win32 !== undefined) return win32.dirname(path);
  if (path.length === 0) return ".";
  const hasRoot = path.charCodeAt(0) === SLASH;
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path.charCodeAt(i) === SLASH) {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else {
      matchedSlash = false;
    }
  }
  if (end === -1) return hasRoot ? "/" : ".";
  if (hasRoot && end === 1) return "//";
  return path.slice(0, end);
}

/** Node's POSIX `normalize`: `.` and `..` resolved, repeated slashes folded. */
function normalize(path: string): string {
  const isAbsolute = path.charCodeAt(0) === SLASH;
  const trailingSeparator = path.charCodeAt(path.length - 1) === SLASH;
  let out = normalizeString(path, !isAbsolute);
  if (out.length === 0) {
    if (isAbsolute) return "/";
    return trailingSeparator ? "./" : ".";
  }
  if (trailingSeparator) out += "/";
  return isAbsolute ? `/${out}` : out;
}

/** Node's `normalizeString` for `/`: the path without its root, resolved. */
function normalizeString(path: string, allowAboveRoot: boolean): string {
  let res = "";
  let lastSegmentLength = 0;
  let lastSlash = -1;
  let dots = 0;
  let code = 0;
  for (let i = 0; i <= path.length; i++) {
    if (i < path.length) code = path.charCodeAt(i);
    else if (code === SLASH) break;
    else code = SLASH;
    if (code === SLASH) {
      if (lastSlash === i - 1 || dots === 1) {
        // an empty or "." segment: nothing to add
      } else if (dots === 2) {
        if (
          res.length < 2 || lastSegmentLength !== 2 ||
          res.charCodeAt(res.length - 1) !== DOT || res.charCodeAt(res.length - 2) !== DOT
        ) {
          if (res.length > 2) {
            const lastSlashIndex = res.lastIndexOf("/");
            if (lastSlashIndex === -1) {
              res = "";
              lastSegmentLength = 0;
            } else {
              res = res.slice(0, lastSlashIndex);
              lastSegmentLength = res.length - 1 - res.lastIndexOf("/");
            }
            lastSlash = i;
            dots = 0;
            continue;
          } else if (res.length !== 0) {
            res = "";
            lastSegmentLength = 0;
            lastSlash = i;
            dots = 0;
            continue;
          }
        }
        if (allowAboveRoot) {
          res += res.length > 0 ? "/.." : "..";
          lastSegmentLength = 2;
        }
      } else {
        if (res.length > 0) res += `/${path.slice(lastSlash + 1, i)}`;
        else res = path.slice(lastSlash + 1, i);
        lastSegmentLength = i - lastSlash - 1;
      }
      lastSlash = i;
      dots = 0;
    } else if (code === DOT && dots !== -1) {
      dots++;
    } else {
      dots = -1;
    }
  }
  return res;
}
