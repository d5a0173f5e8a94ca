/**
 * A child for the write-failure test (private): run under `ulimit -f` so a
 * write past the limit fails with EFBIG. Appends large events until one
 * fails, then appends one small event, and prints a JSON report.
 *
 * @module
 */
import { openWriter } from "../../ledger/writer.ts";
import { WriteError } from "../../ledger/errors.ts";

Deno.addSignalListener("SIGXFSZ", () => {}); // get EFBIG from write() instead of dying
const [root] = Deno.args;
const writer = await openWriter(root);
const acked: string[] = [];
let failure: { name: string; path: string; message: string } | undefined;
for (let i = 0; i < 100 && failure === undefined; i++) {
  try {
    const event = await writer.append({
      event_type: "run.started",
      run_id: "big",
      blob: "x".repeat(200_000),
    });
    acked.push(event.event_id);
  } catch (err) {
    if (!(err instanceof WriteError)) throw err;
    failure = { name: err.name, path: err.path, message: err.message };
  }
}
const after = await writer.append({ event_type: "run.started", run_id: "after" });
acked.push(after.event_id);
await writer.close();
console.log(JSON.stringify({ acked, failure }));
Deno.exit(0);
