/**
 * Whether a path exists, the way `@std/fs` `exists` answers it (JSR cannot
 * be reached here). Only "not found" means `false`; any other error (a
 * missing permission, say) is thrown, never taken for an answer.
 *
 * @module
 */

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
