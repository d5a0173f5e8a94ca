/**
 * A child for the shared-part kill test (private): takes the exclusive lock
 * of a shared CLI part the way `ledger emit` does, writes part of a line (a
 * write cut by the kill), says `locked` on stdout and waits to be SIGKILLed.
 *
 * Usage: `_lock_holder_child.ts PART_PATH`
 *
 * @module
 */
const [path] = Deno.args;
const file = await Deno.open(path, { read: true, write: true, create: true });
await file.lock(true);
await file.seek(0, Deno.SeekMode.End);
await file.write(new TextEncoder().encode('{"event_id":"torn-by-kill","event_type":"run.sta'));
await Deno.stdout.write(new TextEncoder().encode("locked\n"));
setInterval(() => {}, 60_000); // hold the lock (and the process) until killed
