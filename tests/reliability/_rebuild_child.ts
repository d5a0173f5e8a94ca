/**
 * A child that runs one rebuild of the index (private), so a test can run
 * the rebuild under exactly the permissions it wants to check. Prints the
 * rebuild report as JSON.
 *
 * Usage: `_rebuild_child.ts ROOT`.
 *
 * @module
 */
import { rebuildIndex } from "../../indexer/rebuild.ts";

console.log(JSON.stringify(await rebuildIndex(Deno.args[0])));
