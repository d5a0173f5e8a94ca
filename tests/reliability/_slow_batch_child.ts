/**
 * A child for the cross-day listing test (private): appends one batch over
 * two days to the shared parts as `ledger emit --stdin` does, with the
 * second day's fdatasync held `HOLD_MS` (a slow disk), so that it holds
 * both parts' locks past a reader's wait. Prints `syncing` when the hold
 * starts and `done` once the batch is acknowledged.
 *
 * Usage: `_slow_batch_child.ts ROOT DAY1 DAY2 HOLD_MS`
 *
 * @module
 */
import { type DurableFile, REAL_FS, useDurableFs } from "../../ledger/durable_fs.ts";
import { completeEvent, encodeEventLine } from "../../ledger/events.ts";
import { appendShared } from "../../ledger/shared_part.ts";

const [root, firstDay, lastDay, holdMsText] = Deno.args;
const holdMs = Number(holdMsText);

/** `file` with its fdatasync held `holdMs` first. */
function slowToSync(file: DurableFile): DurableFile {
  return {
    write: (data) => file.write(data),
    read: (buffer) => file.read(buffer),
    seek: (offset, whence) => file.seek(offset, whence),
    syncData: async () => {
      console.log("syncing");
      await new Promise((resolve) => setTimeout(resolve, holdMs));
      await file.syncData();
    },
    sync: () => file.sync(),
    truncate: (size) => file.truncate(size),
    lock: (exclusive) => file.lock(exclusive),
    tryLock: (exclusive) => file.tryLock(exclusive),
    unlock: () => file.unlock(),
    stat: () => file.stat(),
    close: () => file.close(),
  };
}

useDurableFs({
  ...REAL_FS,
  open: async (path, options) => {
    const file = await REAL_FS.open(path, options);
    return path.includes(`/day=${lastDay}/emit-`) ? slowToSync(file) : file;
  },
});
const events = [firstDay, lastDay].map((day) =>
  completeEvent({
    event_type: "run.noted",
    run_id: "slow",
    note: day,
    timestamp_ms: Date.parse(`${day}T12:00:00Z`),
  })
);
await appendShared(root, events, events.map(encodeEventLine));
console.log("done");
