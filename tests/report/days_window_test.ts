/**
 * The overview's "Runs per day" chart spans at most a year
 * (`CHART_DAYS_MAX`): a run dated 1970-01-01 or 9999-12-31 (a wrong clock;
 * EVENTS.md takes times to year 9999) stretched it over 8,000 years, every
 * bar under a pixel, none drawn (an audit). The chart holds the window of
 * days with the most runs; its caption says how many runs it leaves out and
 * on which days. Checked on the data of `dayWindow`, the report file and a
 * `ledger ui` page.
 */
import assert from "node:assert/strict";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { openWriter } from "../../ledger/writer.ts";
import { buildReport } from "../../report/build.ts";
import { type DayCount, LiveIndex } from "../../report/data.ts";
import { CHART_DAYS_MAX, dayWindow } from "../../report/html.ts";
import { uiHandler } from "../../report/server.ts";
import { withTempDir } from "../_helpers.ts";

const DAY_MS = 86_400_000;
const BUSY_MS = Date.UTC(2026, 2, 1);

/** The runs' creation times: the bulk over five weeks, one each at the two ends of time. */
const CREATED_MS = [
  0, // 1970-01-01
  ...Array.from({ length: 6 }, (_, i) => BUSY_MS + 7 * i * DAY_MS),
  253402300799999, // 9999-12-31
];

function day(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The charts and the overview's caption of a page. */
function pageOf(html: string): { days: DayCount[]; caption: string } {
  const data = JSON.parse(
    html.match(/<script type="application\/json" id="ledger-data">(.*?)<\/script>/s)![1],
  );
  const caption = html.match(/<figcaption>Runs per day by status(.*?)<\/figcaption>/s)![1];
  return { days: data.charts.days, caption };
}

const OUTSIDE = ` <span class="muted" data-days-outside>(not drawn: 2 runs outside these ` +
  `dates, created 1970-01-01 (1), 9999-12-31 (1))</span>`;

Deno.test("runs per day: the chart spans the bulk of the runs", async (t) => {
  await t.step("dayWindow: days within a year are all drawn", () => {
    const days = [0, 100, CHART_DAYS_MAX - 1].map((n, i) => ({
      day: day(BUSY_MS + n * DAY_MS),
      status: i === 1 ? "failed" : "completed",
      count: 1,
    }));
    assert.deepEqual(dayWindow(days), { shown: days, outside: [] });
    assert.deepEqual(dayWindow([]), { shown: [], outside: [] });
  });

  await t.step("dayWindow: the window with the most runs, the latest of equal ones", () => {
    const at = (n: number, count: number, status = "completed") => ({
      day: day(BUSY_MS + n * DAY_MS),
      status,
      count,
    });
    // One day past a year: the first day or the last is left out, whichever has fewer runs.
    const span = [at(0, 3), at(10, 1, "failed"), at(10, 1), at(CHART_DAYS_MAX, 2)];
    assert.deepEqual(dayWindow(span), { shown: span.slice(0, 3), outside: span.slice(3) });
    const even = [at(0, 2), at(10, 1), at(CHART_DAYS_MAX, 2)];
    assert.deepEqual(dayWindow(even), { shown: even.slice(1), outside: even.slice(0, 1) });
    // Years apart, counted by runs, not by days: the busier single day wins.
    const apart = [at(0, 1), at(1, 1), at(2, 1), at(1000, 5)];
    assert.deepEqual(dayWindow(apart), { shown: apart.slice(3), outside: apart.slice(0, 3) });
  });

  await withTempDir(async (root) => {
    const writer = await openWriter(root);
    for (const [i, ms] of CREATED_MS.entries()) {
      const run_id = `r${i}`;
      await writer.appendBatch([
        {
          event_type: "run.created",
          run_id,
          run_type: "t",
          config: {},
          data_fingerprint: "f",
          timestamp_ms: ms,
        },
        { event_type: "run.completed", run_id, summary: {}, artifact_paths: {}, timestamp_ms: ms },
      ]);
    }
    await writer.close();
    await rebuildIndex(root, {});
    const bulk = CREATED_MS.slice(1, -1).map((ms) => day(ms));

    await t.step("report: the bulk drawn, the two runs outside named", async () => {
      const { html } = await buildReport(root);
      const { days, caption } = pageOf(html);
      assert.deepEqual(days.map((d) => d.day), bulk);
      assert.equal(caption, OUTSIDE);
    });

    await t.step("ui: the same on the overview", async () => {
      const live = new LiveIndex(root);
      try {
        const res = await uiHandler(live)(new Request("http://ui/"));
        assert.equal(res.status, 200);
        const { days, caption } = pageOf(await res.text());
        assert.deepEqual(days.map((d) => d.day), bulk);
        assert.equal(caption, OUTSIDE);
      } finally {
        live.close();
      }
    });
  });
});
