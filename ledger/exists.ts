/**
 * Whether a path exists, the way `@std/fs` `exists` answers it (JSR cannot
 * be reached here). Only "not found" means `false`; any other error (a
 * missing permission, say) is thrown, never taken for an answer.
 *
 * @module
 */

import { dirname } from "./_path.ts";

/** Options for {@linkcode exists}. */
export interface ExistsOptions {
  /** Answer `true` only for a regular file. @default {false} */
  isFile?: boolean;
  /** Look at a symbolic link itself, not what it points to (`lstat`). @default {false} */
  noFollow?: boolean;
}

/**
 * Whether `path` exists (and, with `isFile`, is a regular file).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { exists } from "./exists.ts";
 * assert(await exists(new URL(import.meta.url), { isFile: true }));
 * assert(!(await exists("/no/such/path")));
 * ```
 */
export async function exists(path: string | URL, options: ExistsOptions = {}): Promise<boolean> {
  try {
    const info = options.noFollow ? await Deno.lstat(path) : await Deno.stat(path);
    return options.isFile ? info.isFile : true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

/**
 * The file on `path` where a folder should be (a stat of `path` failed with
 * NotADirectory: `--root` under a file), or `path` when none is found.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { fileOnPath } from "./exists.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await Deno.writeTextFile(`${dir}/notes.txt`, "x");
 *   assert.equal(await fileOnPath(`${dir}/notes.txt/ledger/index`), `${dir}/notes.txt`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function fileOnPath(path: string): Promise<string> {
  for (let at = dirname(path); at !== dirname(at); at = dirname(at)) {
    try {
      if ((await Deno.stat(at)).isFile) return at;
    } catch (err) {
      if (!(err instanceof Deno.errors.NotADirectory || err instanceof Deno.errors.NotFound)) {
        throw err;
      }
    }
  }
  return path;
}

/**
 * The file at `path` opened for reading, or `undefined` when there is none
 * (a part removed since it was listed, say); any other failure is thrown.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { openToReadIfThere } from "./exists.ts";
 * assert.equal(await openToReadIfThere("/no/such/file"), undefined);
 * const file = await openToReadIfThere(import.meta.filename!);
 * assert.ok(file !== undefined);
 * file.close();
 * ```
 */
export async function openToReadIfThere(path: string): Promise<Deno.FsFile | undefined> {
  try {
    return await Deno.open(path, { read: true });
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return undefined;
    throw err;
  }
}
