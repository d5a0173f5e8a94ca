/**
 * A child writer process for the concurrency and crash tests (private).
 *
 * Usage: `_writer_child.ts ROOT TAG COUNT [BLOB_BYTES]`. Appends COUNT events
 * with `run_id` TAG (singles and batches, some concurrently), and prints each
 * event id to stdout once its append has resolved (durable: acknowledged).
 * COUNT 0 means forever (until killed).
 *
 * @module
 */
import { openWriter } from "../../ledger/writer.ts";

const [root, tag, countText, blobText] = Deno.args;
const count = Number(countText);
const blob = "x".repeat(Number(blobText ?? "0"));
const writer = await openWriter(root);
const encoder = new TextEncoder();

async function ack(ids: string[]): Promise<void> {
  const text = encoder.encode(ids.join("\n") + "\n");
  let offset = 0;
  while (offset < text.length) offset += await Deno.stdout.write(text.subarray(offset));
}

function input(i: number) {
  return { event_type: "phase.started", run_id: tag, phase_name: "p", phase_order: i, blob };
}

let i = 0;
while (count === 0 || i < count) {
  if (i % 10 === 0) {
    const events = await writer.appendBatch([input(i), input(i + 1), input(i + 2)]);
    await ack(events.map((e) => e.event_id));
    i += 3;
  } else {
    const pair = await Promise.all([writer.append(input(i)), writer.append(input(i + 1))]);
    await ack(pair.map((e) => e.event_id));
    i += 2;
  }
}
await writer.close();
