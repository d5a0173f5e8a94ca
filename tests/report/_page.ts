/**
 * Reading a report page in the tests: its views and its chart data.
 *
 * @module
 */
import assert from "node:assert/strict";

/** The `<section class="view">` of each view of a report page, by its id. */
export function sections(html: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of html.split(`<section class="view" id="`).slice(1)) {
    out.set(part.slice(0, part.indexOf('"')), part.slice(0, part.indexOf("</section>")));
  }
  return out;
}

/** The chart data of a page (its `ledger-data` script). */
export function charts(html: string): Record<string, unknown> {
  const at = html.indexOf(`id="ledger-data">`) + `id="ledger-data">`.length;
  return JSON.parse(html.slice(at, html.indexOf("</script>", at))).charts;
}

/** The id of the view section (`run-N`) of run `runId` on a report page. */
export function runSectionId(html: string, runId: string): string {
  const match = html.match(new RegExp(`<section class="view" id="(run-\\d+)"><h1>${runId} `));
  assert.ok(match, `no section for ${runId}`);
  return match[1];
}
