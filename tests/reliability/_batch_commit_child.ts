/**
 * A child for the stdin kill test (private): appends a batch of two events
 * on two days to the shared parts the way `ledger emit --stdin` does, and
 * SIGKILLs itself when the batch's marker of the second day is about to be
 * removed (the first day's is gone already): a kill between the two removals.
 *
 * Usage: `_batch_commit_child.ts ROOT`
 *
 * @module
 */
import { REAL_FS, useDurableFs } from "../../ledger/durable_fs.ts";
import { completeEvent, encodeEventLine } from "../../ledger/events.ts";
import { appendShared } from "../../ledger/shared_part.ts";

const [root] = Deno.args;
/** The two days of the batch. */
const BATCH_DAYS_MS: readonly number[] = [
  Date.UTC(2026, 0, 1, 12),
  Date.UTC(2026, 0, 2, 12),
];
const KILL_AT = "/2026-01-02__emit-000001.jsonl.size";

useDurableFs({
  ...REAL_FS,
  remove: (path) => {
    if (path.endsWith(KILL_AT)) Deno.kill(Deno.pid, "SIGKILL");
    return REAL_FS.remove(path);
  },
});
const events = BATCH_DAYS_MS.map((timestamp_ms, i) =>
  completeEvent({ event_type: "run.noted", run_id: "b", note: `day-${i + 1}`, timestamp_ms })
);
await appendShared(root, events, events.map(encodeEventLine));
console.log("not killed");
