/**
 * A child for the disk-full suite (private): appends events of BLOB_BYTES
 * with one writer until an append fails, printing each acknowledged id on
 * stdout, then one line `FAILED <error name>: <message>`. Exits 0 when an
 * append failed with a WriteError, 1 when none failed in APPENDS_MAX tries.
 *
 * Usage: `_fill_child.ts ROOT BLOB_BYTES`.
 *
 * @module
 */
import { openWriter } from "../../ledger/writer.ts";
import { WriteError } from "../../ledger/errors.ts";

/** Appends tried before giving up on filling the disk. */
const APPENDS_MAX = 10_000;

Deno.addSignalListener("SIGXFSZ", () => {}); // under ulimit -f: EFBIG instead of death
const [root, blobText] = Deno.args;
const blob = "x".repeat(Number(blobText));
const writer = await openWriter(root);
for (let i = 0; i < APPENDS_MAX; i++) {
  try {
    const event = await writer.append({ event_type: "run.started", run_id: "fill", blob, i });
    console.log(event.event_id);
  } catch (err) {
    if (!(err instanceof WriteError)) throw err;
    console.log(`FAILED ${err.name}: ${err.message}`);
    Deno.exit(0);
  }
}
Deno.exit(1);
