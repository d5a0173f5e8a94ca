/**
 * The real path of a path that may not exist yet, for checks of where a
 * file would land (an output inside the root, an index inside the log).
 * Not on the write path: it loads `node:path`.
 *
 * @module
 */
import { basename, dirname, join, resolve } from "node:path";

/**
 * The real path of `path` (made absolute): of its deepest existing folder,
 * through its symbolic links, joined with the rest; the absolute `path`
 * itself where this process may not read (a task granted only the ledger's
 * folder, writing a report elsewhere).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { realPathOf } from "./real_path.ts";
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   await Deno.symlink(dir, `${dir}/link`);
 *   assert.equal(await realPathOf(`${dir}/link/not/yet.txt`), `${dir}/not/yet.txt`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function realPathOf(path: string): Promise<string> {
  const absolute = resolve(path);
  let head = absolute;
  const tail: string[] = [];
  for (;;) {
    try {
      return join(await Deno.realPath(head), ...tail.reverse());
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        return absolute;
      }
      if (!(err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory)) {
        throw err;
      }
      const parent = dirname(head);
      if (parent === head) return absolute;
      tail.push(basename(head));
      head = parent;
    }
  }
}

/** Most symbolic links followed from a path to the file it names (Linux's own limit). */
export const LINK_HOPS_MAX = 40;

/**
 * A path names a process's open file or another file of `/proc` (a link
 * into it, such as `/dev/stdout`): a file written aside and renamed over it
 * would replace the link, not write to the file behind it.
 */
export class ProcessFileLinkError extends Error {
  /** The path as given. */
  readonly path: string;
  /** The link's target under `/proc`. */
  readonly target: string;
  /** What the target is: `a process's open file` (`/proc/<pid>/fd/N`) or `a file under /proc`. */
  readonly what: string;
  /**
   * The error for `path`, a link to `target` under `/proc`.
   *
   * @example
   * ```ts
   * import assert from "node:assert";
   * import { ProcessFileLinkError } from "./real_path.ts";
   * assert.match(new ProcessFileLinkError("/dev/stdout", "/proc/self/fd/1").message, /\/proc\/self\/fd\/1/);
   * ```
   */
  constructor(path: string, target: string) {
    const what = /^\/proc\/[^/]+\/fd\//.test(target)
      ? "a process's open file"
      : "a file under /proc";
    super(`${path} is a link to ${target} (${what}), not a file to write`);
    this.name = "ProcessFileLinkError";
    this.what = what;
    this.path = path;
    this.target = target;
  }
}

/**
 * The file a write to `path` must replace (made absolute): `path` itself, or,
 * when `path` is a symbolic link, the path its links lead to (which may not
 * exist yet). A writer that writes aside and renames over the result updates
 * the file behind a link instead of turning the link into a file (an audit:
 * `export --out /dev/stdout` replaced the system's `/dev/stdout`). Throws
 * {@linkcode ProcessFileLinkError} for a link into `/proc`, and a `TypeError`
 * past {@linkcode LINK_HOPS_MAX} links (a loop).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { linkTargetOf } from "./real_path.ts";
 * const dir = await Deno.realPath(await Deno.makeTempDir());
 * try {
 *   await Deno.symlink("out/report.html", `${dir}/latest.html`);
 *   assert.equal(await linkTargetOf(`${dir}/latest.html`), `${dir}/out/report.html`);
 *   assert.equal(await linkTargetOf(`${dir}/plain.csv`), `${dir}/plain.csv`);
 *   await Deno.symlink("/proc/self/fd/1", `${dir}/stdout`);
 *   await assert.rejects(linkTargetOf(`${dir}/stdout`), /a process's open file/);
 *   await Deno.symlink("/proc/version", `${dir}/pv`);
 *   await assert.rejects(linkTargetOf(`${dir}/pv`), /a file under \/proc/);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function linkTargetOf(path: string): Promise<string> {
  let current = resolve(path);
  for (let hops = 0;; hops++) {
    let info: Deno.FileInfo;
    try {
      info = await Deno.lstat(current);
    } catch (err) {
      // Not there (yet), or under a file: the write's own checks say what is wrong.
      if (err instanceof Deno.errors.NotFound || err instanceof Deno.errors.NotADirectory) {
        return current;
      }
      throw err;
    }
    if (!info.isSymlink) return current;
    if (hops === LINK_HOPS_MAX) {
      throw new TypeError(`${path}: more than ${LINK_HOPS_MAX} symbolic links (a loop?)`);
    }
    // The folder the link is in, really: /dev/fd/1 and /proc/self/fd/1 are links in /proc.
    const folder = await realPathOf(dirname(current));
    if (isUnderProc(folder)) throw new ProcessFileLinkError(path, join(folder, basename(current)));
    // A relative target is read from that folder (`..` there).
    const next = resolve(folder, await Deno.readLink(current));
    if (isUnderProc(next)) throw new ProcessFileLinkError(path, next);
    current = next;
  }
}

function isUnderProc(path: string): boolean {
  return path === "/proc" || path.startsWith("/proc/");
}
