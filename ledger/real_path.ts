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
