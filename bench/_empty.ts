/**
 * An empty program: the floor of benchmark item 5 (`deno run` of an empty
 * file, same config and working directory as `ledger emit`).
 *
 * @module
 */
