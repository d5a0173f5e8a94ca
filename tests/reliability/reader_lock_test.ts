/**
 * Readers of a shared CLI part (the indexer's listing, `ledger ship`, emit's
 * retry lookup) take its size and its batch record under the part's lock:
 * no writer appends or cuts meanwhile, and none cuts below a batch's record,
 * or below the part's whole lines, afterwards. A storage probe found the size taken
 * before a dead batch was cut back and its record read after: the stale size
 * then reached over a later dead batch's lines, which `ledger ship` uploaded
 * (15,834 events no `emit --stdin` had acknowledged) and then failed on.
 * Here a real process holds the lock mid-line, as an `emit` killed while
 * appending would: the reader waits for it, then finds the torn line.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { listPartFiles } from "../../indexer/_files.ts";
import { stableAcknowledgedSize } from "../../ledger/shared_part.ts";
import { withTempDir } from "../_helpers.ts";
import { holdLock } from "./_hold_lock.ts";

/** How long the reader is shown to wait while the lock is held, in ms. */
const HELD_MS = 700;

Deno.test("shared part readers wait for a writer's lock and take whole lines only", async () => {
  await withTempDir(async (root) => {
    const day = join(root, "events", "day=2026-01-02");
    await Deno.mkdir(day, { recursive: true });
    const part = join(day, "emit-000001.jsonl");
    const lines = '{"event_id":"a"}\n{"event_id":"b"}\n';
    await Deno.writeTextFile(part, lines);
    const { holder } = await holdLock(part); // and half a line written after `lines`
    let killed = false;
    try {
      // Held past the wait (a stopped writer): read as before readers locked, and said.
      const unlocked = await stableAcknowledgedSize(root, "2026-01-02", part, { waitMsMax: 200 });
      assert.equal(unlocked?.locked, false);
      assert.equal(unlocked?.wholeLinesBytes, lines.length);
      let listed = false;
      const listing = listPartFiles(root).then((files) => {
        listed = true;
        return files;
      });
      await new Promise((resolve) => setTimeout(resolve, HELD_MS));
      assert.equal(listed, false, "the listing waits while a writer holds the part's lock");
      holder.kill("SIGKILL");
      killed = true;
      await holder.status;
      const [file] = await listing;
      const size = (await Deno.stat(part)).size;
      assert.ok(size > lines.length, "the killed writer's torn line is there");
      // The listing has it, to report it (SPEC 6); whole lines end before it.
      assert.deepEqual([file.sizeBytes, file.pendingBytes], [size, 0]);
      const stable = await stableAcknowledgedSize(root, "2026-01-02", part);
      assert.deepEqual(
        [stable?.listedBytes, stable?.acknowledgedBytes, stable?.wholeLinesBytes, stable?.locked],
        [size, size, lines.length, true],
      );
    } finally {
      if (!killed) holder.kill("SIGKILL");
      await holder.status;
    }
  });
});
