// The browser side of `ledger report` and `ledger ui`: draws the charts with
// Observable Plot (inlined beside this script), sorts and filters tables,
// switches sections of the report file by #hash. Reads its data from the
// <script type="application/json" id="ledger-data"> element; writes text
// only through DOM text nodes (Plot does the same), never as HTML.
/* global Plot, document */
(function () {
  "use strict";
  const DATA = JSON.parse(document.getElementById("ledger-data").textContent);
  const STATUS_COLORS = {
    completed: "#2e8540",
    failed: "#c62828",
    running: "#2f6fdf",
    pending: "#8a94a3",
    stale: "#d97706",
  };
  // Whole bps, no "-0" (Math.round(-0.3) is -0, which toLocaleString writes as "-0").
  const fmtBps = (v) => (Math.round(v) || 0).toLocaleString("en-US");
  // Bps with the fewest decimals (at most 9: values are rounded to 1e-9 bps) that write every
  // one of `edges` apart from its neighbours, so that bins narrower than 1 bps do not read
  // [0, 0) (probe 22).
  function bpsFormat(edges) {
    const steps = edges.slice(1).map((e, i) => e - edges[i]).filter((d) => d > 0);
    const step = steps.length === 0 ? 1 : Math.min(...steps);
    let decimals = 0;
    const near = (e, d) => Math.abs(Number(e.toFixed(d)) - e) < step * 1e-3;
    while (decimals < 9 && !edges.every((e) => near(e, decimals))) decimals++;
    if (decimals === 0) return fmtBps;
    return (v) =>
      (Number(v.toFixed(decimals)) || 0).toLocaleString("en-US", {
        minimumFractionDigits: decimals,
        maximumFractionDigits: decimals,
      });
  }
  // An axis tick in bps as exact as the tick (Plot picks 0.005 between 0 and 0.01); a value
  // that is none ("-": a caller with no entered trade has no mean, a probe's chart threw on it).
  const fmtTick = (v) =>
    typeof v !== "number" || !Number.isFinite(v)
      ? "-"
      : (Number(v.toFixed(9)) || 0).toLocaleString("en-US", { maximumFractionDigits: 9 });
  // A value to `digits` significant digits, more while that would write one of `bounds` it is
  // not: a win rate of 0.9996 is not "1" nor 99.96% "100%", 1e-4 bps not "0" (a probe: a run
  // that lost one trade of 2,500 read as one that lost none).
  const fmtNear = (v, digits, bounds) => {
    let d = digits;
    while (d < 9 && !bounds.includes(v) && bounds.includes(Number(v.toPrecision(d)))) d++;
    return String(Number(v.toPrecision(d)) || 0);
  };
  // A share as a whole percentage, with decimals only where it would read 0% or 100% else.
  const fmtPercent = (share) =>
    `${
      share * 100 >= 1 && share * 100 < 99
        ? Math.round(share * 100)
        : fmtNear(share * 100, 2, [0, 100])
    }%`;
  // Control characters and bidirectional overrides as escapes (ledger/control_text.ts
  // escapeControl), so a chart label can neither hide a character nor reverse itself.
  // deno-lint-ignore no-control-regex
  const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
  const escapeControl = (text) =>
    text.replace(CONTROL, (ch) => {
      if (ch === "\n") return "\\n";
      if (ch === "\t") return "\\t";
      if (ch === "\r") return "\\r";
      const code = ch.charCodeAt(0);
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : `\\u${code.toString(16).padStart(4, "0")}`;
    });
  // A phase's name on an axis: escaped (a probe: U+202E made a bar read "compute"), and cut to
  // PHASE_LABEL_MAX characters, whole in its tooltip; the margin fits the longest label.
  const PHASE_LABEL_MAX = 32;
  const phaseLabel = (name) => {
    const text = escapeControl(String(name));
    return text.length > PHASE_LABEL_MAX ? `${text.slice(0, PHASE_LABEL_MAX - 1)}\u2026` : text;
  };
  const phaseMargin = (names) =>
    Math.max(90, 12 + 7 * Math.max(0, ...names.map((n) => phaseLabel(n).length)));
  // Sweep metrics where less is better (docs/METRICS.md), and those that only describe.
  const LOWER_IS_BETTER = new Set(["stop_out_rate", "calls_skipped", "calls_no_entry"]);
  // An unbounded metric in a heatmap row (html.ts UNBOUNDED_MARK).
  const UNBOUNDED = "unbounded";
  // The y "parameter" of a one-row heatmap (x and y the same path): not a path of any params.
  const ONE_ROW = "\u0000one-row";
  const DESCRIPTIVE = new Set(["calls", "avg_hold_ms"]);
  // A histogram bin's color by whether its values are above zero (data.ts Bin.above_zero).
  const HIST_FILL = { all: "#2e8540", none: "#c62828", some: "#8a94a3" };

  // What a phase's tooltip adds for a phase not completed (data.ts PhaseView).
  function phaseNote(p) {
    if (p.unfinished) return " (did not complete: the run ended)";
    if (p.open) return " so far (not completed yet: up to the run's last event)";
    return "";
  }

  function widthOf(fig) {
    return Math.max(320, Math.min(1200, fig.clientWidth || fig.parentElement.clientWidth || 640));
  }

  function empty(fig, text) {
    const p = document.createElement("p");
    p.className = "empty";
    p.textContent = text;
    fig.append(p);
  }

  const CHARTS = {
    days(data, width) {
      if (data.length === 0) return null;
      const statuses = [...new Set(data.map((d) => d.status))];
      const DAY_MS = 86400000;
      const times = data.map((d) => Date.parse(d.day + "T00:00:00Z"));
      const first = Math.min(...times);
      const last = Math.max(...times) + DAY_MS;
      // At least two weeks wide, so one busy day is a bar, not the whole chart.
      const pad = Math.max(0, (14 * DAY_MS - (last - first)) / 2);
      return Plot.plot({
        width,
        height: 200,
        marginLeft: 44,
        x: { type: "utc", label: null, domain: [new Date(first - pad), new Date(last + pad)] },
        y: { label: "runs", grid: true, tickFormat: (v) => (Number.isInteger(v) ? v : "") },
        color: {
          legend: true,
          domain: statuses,
          range: statuses.map((s) => STATUS_COLORS[s] || "#6b7280"),
        },
        marks: [
          Plot.rectY(data, {
            x: (d) => new Date(d.day + "T00:00:00Z"),
            interval: "day",
            y: "count",
            fill: "status",
            inset: 1,
            title: (d) => `${d.day} ${d.status}: ${d.count}`,
          }),
          Plot.ruleY([0]),
        ],
      });
    },
    phases(data, width) {
      const rows = data.filter((p) => p.duration_ms !== null);
      if (rows.length === 0) return null;
      const order = rows.map((p) => p.name);
      let cursor = 0;
      const bars = rows.map((p) => {
        const start = p.start_ms === null ? cursor : p.start_ms;
        cursor = start + p.duration_ms;
        return {
          name: p.name,
          start,
          end: start + Math.max(p.duration_ms, 0.5),
          ms: p.duration_ms,
          unfinished: p.unfinished === true,
          open: p.open === true,
        };
      });
      const total = Math.max(...bars.map((b) => b.end));
      return Plot.plot({
        width,
        height: 40 + 26 * rows.length,
        marginLeft: phaseMargin(order),
        marginRight: 70,
        x: { label: "ms", grid: true, domain: [0, total * 1.02] },
        y: { domain: order, label: null, tickFormat: phaseLabel },
        marks: [
          Plot.barX(bars, {
            x1: "start",
            x2: "end",
            y: "name",
            // A phase the run ended in without completing it (where it failed): red. One
            // still going (the run has not ended): light, up to the run's last event so far.
            fill: (d) => (d.unfinished ? "#dc2626" : d.open ? "#9dbcf2" : "#2f6fdf"),
            title: (d) => `${escapeControl(d.name)}: ${d.ms} ms${phaseNote(d)}`,
          }),
          Plot.text(bars, {
            x: "end",
            y: "name",
            text: (d) => (d.open ? `${d.ms} ms so far` : `${d.ms} ms`),
            textAnchor: "start",
            dx: 4,
            fill: "#1d2330",
          }),
        ],
      });
    },
    equity(data, width) {
      const series = data.series.filter((s) => s.t.length > 0);
      if (series.length === 0) return null;
      const points = series.flatMap((s) =>
        s.t.map((dt, i) => ({ run: s.label, t: new Date(s.t0 + dt * 1000), v: s.v[i] }))
      );
      // A compare colors each curve by its run's letter, with a legend, also when only one
      // of its runs has a curve (the others have no trades, or their results are unreadable).
      const many = series.length > 1 || data.letters !== undefined;
      // Each curve starts at 0 (nothing traded yet) and steps at its first exit, as it steps at
      // every later one: drawn from its first point, a first trade's return was no step at all.
      const starts = series.map((s) => ({ run: s.label, t: new Date(s.t0 + s.t[0] * 1000), v: 0 }));
      return Plot.plot({
        width,
        height: 280,
        marginLeft: 64,
        x: { type: "utc", label: "exit time (UTC)" },
        // Ticks and tips as exact as the curve (0.01 bps): whole bps wrote 0.15 and 0.45 as 0.
        y: { label: "cumulative return (bps)", grid: true, tickFormat: fmtTick },
        color: many ? { legend: true, domain: data.letters } : undefined,
        marks: [
          Plot.ruleY([0], { stroke: "#8a94a3" }),
          Plot.lineY([...starts, ...points], {
            x: "t",
            y: "v",
            z: "run",
            stroke: many ? "run" : "#2f6fdf",
            strokeWidth: 1.6,
            curve: "step-after",
          }),
          Plot.tip(
            points,
            Plot.pointerX({ x: "t", y: "v", title: (d) => `${d.run}: ${fmtTick(d.v)} bps` }),
          ),
        ],
      });
    },
    hist(data, width) {
      if (data.bins.length === 0) return null;
      // Ticks and bounds with the precision of the narrowest bin.
      const fmt = bpsFormat([data.bins[0].x0, ...data.bins.map((b) => b.x1)]);
      // Zero is on the axis where that leaves the bins at least half as wide: a probe's run whose
      // trades all stopped out at -3,000 bps drew its one bin [-3,000, -2,999) under a pixel wide
      // on an axis from -3,000 to 0, and no bar was seen.
      const lo = data.bins[0].x0;
      const hi = data.bins[data.bins.length - 1].x1;
      const withZero = lo <= 0 && hi >= 0 ? true : lo > 0 ? lo <= hi - lo : -hi <= hi - lo;
      return Plot.plot({
        width: Math.min(width, 620),
        height: 220,
        marginLeft: 44,
        x: {
          label: data.label,
          tickFormat: fmtTick,
          ticks: 6,
          domain: withZero ? [Math.min(lo, 0), Math.max(hi, 0)] : [lo, hi],
        },
        y: { label: "calls", grid: true },
        marks: [
          Plot.rectY(data.bins, {
            x1: "x0",
            x2: "x1",
            y: "count",
            // data.ts: whether the bin's values are above zero (0 is not a win).
            fill: (d) => HIST_FILL[d.above_zero],
            inset: 0.5,
            // data.ts: an end bin also counts the values beyond the drawn range, said here.
            title: (d) =>
              `[${fmt(d.x0)}, ${fmt(d.x1)}): ${d.count}` +
              (d.below ? `, of which ${d.below} below ${fmt(d.x0)}` : "") +
              (d.above ? `, of which ${d.above} above ${fmt(d.x1)}` : ""),
          }),
          Plot.ruleY([0]),
          withZero ? Plot.ruleX([0], { stroke: "#1d2330", strokeDasharray: "3,3" }) : null,
        ],
      });
    },
    callers(data, width) {
      if (data.length === 0) return null;
      const lo = Object.keys(data[0]).find((k) => /^mean_return_bps_(lo|low|lower)$/.test(k));
      const hi = Object.keys(data[0]).find((k) => /^mean_return_bps_(hi|high|upper)$/.test(k));
      // A caller with no entered trade has no mean (null): listed last, its count said.
      const mean = (d) => (typeof d.mean_return_bps === "number" ? d.mean_return_bps : -Infinity);
      const sorted = data.slice().sort((a, b) => mean(b) - mean(a) || 0);
      // One bar per row, under a label of its own: a caller named twice (a malformed
      // caller_summary.parquet) is two bars, "dup" and "dup (2)", not one bar of their sum.
      const used = new Set();
      const rows = sorted.map((d) => {
        const name = d.caller === null || d.caller === undefined
          ? "(no caller)"
          : d.caller === ""
          ? '""'
          : escapeControl(String(d.caller));
        let label = name;
        for (let n = 2; used.has(label); n++) label = `${name} (${n})`;
        used.add(label);
        return { ...d, label };
      });
      const marks = [
        // x1/x2, not x: Plot stacks bars given x alone, and rows on one label would add up.
        Plot.barX(rows, {
          x1: 0,
          x2: "mean_return_bps",
          y: "label",
          fill: (d) => (d.mean_return_bps >= 0 ? "#2e8540" : "#c62828"),
          title: (d) =>
            `${d.label}: ${
              typeof d.mean_return_bps === "number"
                ? `${fmtTick(d.mean_return_bps)} bps`
                : "no mean"
            } over ${d.count} call${d.count === 1 ? "" : "s"}`,
        }),
        Plot.ruleX([0]),
        Plot.text(rows, {
          x: (d) => Math.max(0, d.mean_return_bps),
          y: "label",
          text: (d) =>
            `n=${d.count}` + (d.win_rate == null ? "" : `  win ${fmtPercent(d.win_rate)}`),
          textAnchor: "start",
          dx: 6,
          fill: "#1d2330",
        }),
      ];
      if (lo && hi) {
        marks.push(
          Plot.ruleY(rows, { x1: lo, x2: hi, y: "label", stroke: "#1d2330", strokeWidth: 1.5 }),
        );
      }
      return Plot.plot({
        width,
        height: 40 + 24 * rows.length,
        marginLeft: 110,
        marginRight: 150,
        x: { label: "mean return (bps)", grid: true, tickFormat: fmtTick },
        y: { domain: rows.map((d) => d.label), label: null },
        marks,
      });
    },
    "compare-phases"(data, width) {
      const rows = data.rows;
      if (rows.length === 0) return null;
      const phases = [...new Set(rows.map((d) => d.phase))];
      return Plot.plot({
        width,
        height: 40 + 12 * data.letters.length * phases.length + 8 * phases.length,
        marginLeft: phaseMargin(phases),
        marginRight: 20,
        x: { label: "ms", grid: true },
        y: { axis: null, domain: data.letters },
        fy: { label: null, domain: phases, axis: "left", padding: 0.15, tickFormat: phaseLabel },
        color: { legend: true, domain: data.letters },
        marks: [
          Plot.barX(rows, {
            x: "ms",
            y: "run",
            fy: "phase",
            fill: "run",
            title: (d) => `${d.run} ${escapeControl(d.phase)}: ${d.ms} ms${phaseNote(d)}`,
          }),
          Plot.ruleX([0]),
        ],
      });
    },
    heatmap(data, width, fig) {
      const controls = document.querySelector(
        `[data-heatmap-controls="${CSS.escape(fig.dataset.key)}"]`,
      );
      const select = (axis) => controls.querySelector(`[data-axis="${axis}"]`);
      const x = select("x").value;
      // One parameter on both axes (a sweep of one varying parameter opens so): one row of
      // cells, one per value, not a diagonal of a square mostly empty (a probe).
      const oneRow = select("y").value === x;
      const y = oneRow ? ONE_ROW : select("y").value;
      const metric = select("metric").value;
      // Axis names: the option's text (a combo's sub-policy type beside its path).
      const labelOf = (axis) => {
        if (axis === "y" && oneRow) return "";
        const opt = select(axis).selectedOptions[0];
        return opt ? opt.textContent : select(axis).value;
      };
      // A trial with no losing trade has an unbounded profit factor (sortino, sharpe): marked
      // by the server, it ranks above every finite value and is drawn at the top of the scale.
      // html.ts: a row is {id, p: parameters, m: metrics}, kept apart (names may be shared).
      const valueOf = (d) => (d.m[metric] === UNBOUNDED ? Infinity : d.m[metric]);
      const valued = (d) =>
        d.m[metric] === UNBOUNDED ||
        (typeof d.m[metric] === "number" && Number.isFinite(d.m[metric]));
      const all = data.map((d) => oneRow ? { ...d, p: { ...d.p, [ONE_ROW]: metric } } : d);
      const rows = all.filter(valued);
      if (rows.length === 0 || !x || !y) return null;
      const values = rows.map(valueOf).filter(Number.isFinite);
      const min = values.length === 0 ? 0 : Math.min(...values);
      const max = values.length === 0 ? 1 : Math.max(...values);
      const color = min < 0 && max > 0
        ? { type: "diverging", scheme: "RdYlGn", pivot: 0, legend: true, label: metric }
        : { scheme: "Viridis", legend: true, label: metric };
      const sortNum = (a, b) => compareValues(a, b);
      // Parameter values are the leaves of the params (numbers, strings): a
      // grouping key and a tick label each. Durations (a path ending in Ms) read as 1h, 30m.
      const plainTick = (path) => (v) => {
        if (typeof v === "number" && /Ms$/.test(path)) return fmtDuration(v);
        if (typeof v === "number") return String(+v.toPrecision(6));
        if (v === undefined) return "(missing)";
        return v === null ? "null" : escapeControl(String(v));
      };
      // Every value the grid has, a cell each: one whose trials all lack the metric (a profit
      // factor of no trade, 0 / 0) is a blank cell that says so (a probe: its row or column was
      // left out, the grid drawn without it).
      const xs = axisValues(all, x).sort(sortNum);
      const ys = axisValues(all, y).sort(sortNum);
      // An axis whose distinct values would share a label (0.2 and "0.2", true and "true")
      // labels each as JSON, strings quoted (the rule of ledger/control_text.ts distinctCells).
      const ticks = { [x]: plainTick(x), [y]: plainTick(y) };
      for (const [path, values] of [[x, xs], [y, ys]]) {
        const labels = values.map(ticks[path]);
        if (new Set(labels).size < labels.length) {
          ticks[path] = (v) => v === undefined ? "(missing)" : escapeControl(JSON.stringify(v));
        }
      }
      if (oneRow) ticks[y] = () => ""; // the legend names the metric
      // Cells and axes by each value's key (paramKey): a value the scales and the title read back.
      const valueOfKey = {
        [x]: new Map(xs.map((v) => [paramKey(v), v])),
        [y]: new Map(ys.map((v) => [paramKey(v), v])),
      };
      const tick = (path) => (key) => ticks[path](valueOfKey[path].get(key));
      // Past 1e15 in exponent form: a cell of -1e308 read as 412 characters of digits (a probe).
      const fmtMetric = (v) =>
        v === Infinity
          ? "∞"
          : Math.abs(v) >= 1e15
          ? v.toPrecision(3)
          : Math.abs(v) >= 100
          ? Math.round(v).toLocaleString("en-US")
          : fmtNear(v, 3, [0, 1, -1]);
      // One cell per (x, y) value pair: the best value of its trials. Best is the highest,
      // except for metrics where less is better (a higher stop-out rate is worse), and a
      // metric that only describes (calls, hold time) shows its highest, not called best.
      const lowerIsBetter = LOWER_IS_BETTER.has(metric);
      const which = DESCRIPTIVE.has(metric) ? "highest" : "best";
      const groups = groupByTwo(all, x, y);
      const blanks = groups.filter((g) => !g.rows.some(valued)).map((g) => ({
        x: g.x,
        y: g.y,
        n: g.rows.length,
        id: g.rows[0].id,
      }));
      const cells = groups.map((g) => ({ ...g, total: g.rows.length, rows: g.rows.filter(valued) }))
        .filter((g) => g.rows.length > 0).map((g) => {
          // Between two unbounded trials the higher mean_return_bps wins (docs/METRICS.md; a
          // probe: the first of them was named, not the sweep's own best trial).
          const mean = (d) =>
            typeof d.m.mean_return_bps === "number" ? d.m.mean_return_bps : -Infinity;
          // Values within a relative 1e-12 of each other tie, and the earlier trial (grid
          // order) wins, as the sweep's own best trial (docs/METRICS.md; helper-290: 0.1 + 0.2
          // beat 0.3 here, naming another trial than the sweep would).
          const near = (p, q) =>
            p === q || (Number.isFinite(p) && Number.isFinite(q) &&
              Math.abs(p - q) <= 1e-12 * Math.max(Math.abs(p), Math.abs(q)));
          const better = (b, a) => {
            const [vb, va] = [valueOf(b), valueOf(a)];
            if (vb === Infinity && va === Infinity) {
              return !near(mean(b), mean(a)) && mean(b) > mean(a);
            }
            if (near(vb, va)) return false;
            return lowerIsBetter ? vb < va : vb > va;
          };
          const best = g.rows.reduce((a, b) => better(b, a) ? b : a);
          const v = valueOf(best);
          return {
            x: g.x,
            y: g.y,
            v,
            fill: v === Infinity ? max : v,
            n: g.rows.length,
            total: g.total,
            id: best.id,
          };
        });
      return Plot.plot({
        width: Math.min(width, 160 + 90 * xs.length),
        height: 100 + 44 * ys.length,
        marginLeft: 110,
        marginTop: 36,
        marginBottom: 44,
        padding: 0.04,
        x: { domain: xs.map(paramKey), label: labelOf("x"), tickFormat: tick(x) },
        // Above the axis, not rotated beside it: a leaf path is longer than a few rows are tall.
        y: {
          domain: ys.map(paramKey),
          label: labelOf("y"),
          labelAnchor: "top",
          tickFormat: tick(y),
        },
        color,
        marks: [
          Plot.cell(blanks, {
            x: "x",
            y: "y",
            fill: "#e6e6e6",
            title: (c) =>
              `${labelOf("x")} = ${tick(x)(c.x)}\n` +
              (oneRow ? "" : `${labelOf("y")} = ${tick(y)(c.y)}\n`) +
              `${metric}: no value in ${c.n === 1 ? "its trial" : `any of its ${c.n} trials`} ` +
              `(${c.id})`,
          }),
          Plot.text(blanks, { x: "x", y: "y", text: () => "–", fill: "#555" }),
          Plot.cell(cells, {
            x: "x",
            y: "y",
            fill: "fill",
            title: (c) =>
              `${labelOf("x")} = ${tick(x)(c.x)}\n` +
              (oneRow ? "" : `${labelOf("y")} = ${tick(y)(c.y)}\n`) +
              `${metric} ${fmtMetric(c.v)}: ${which} of ${c.n} trial${c.n === 1 ? "" : "s"}` +
              (c.total > c.n ? `, ${c.total - c.n} more without a value` : "") + ` (${c.id})`,
          }),
          Plot.text(cells, {
            x: "x",
            y: "y",
            text: (c) => fmtMetric(c.v),
            fill: "#111",
            stroke: "white",
            strokeWidth: 3,
            paintOrder: "stroke",
          }),
        ],
        style: { fontSize: "12px" },
      });
    },
  };

  // A heatmap axis's key of a parameter's value: its JSON, or "(missing)" for a trial without
  // the parameter (a probe: JSON wrote a missing value as null, so a trial without `p` and one
  // with `p: null` were one cell, under either label, and Plot drew no column for the other).
  function paramKey(v) {
    return v === undefined ? "(missing)" : JSON.stringify(v);
  }

  // The distinct values of the rows' parameter at `path` (by paramKey), in first-seen order.
  function axisValues(rows, path) {
    const byKey = new Map();
    for (const d of rows) {
      if (!byKey.has(paramKey(d.p[path]))) byKey.set(paramKey(d.p[path]), d.p[path]);
    }
    return [...byKey.values()];
  }

  // Heatmap rows grouped by their parameters' values at two paths, in first-seen order; a
  // group's x and y are the values' keys (paramKey).
  function groupByTwo(rows, x, y) {
    const groups = new Map();
    for (const d of rows) {
      const [kx, ky] = [paramKey(d.p[x]), paramKey(d.p[y])];
      const key = JSON.stringify([kx, ky]);
      if (!groups.has(key)) groups.set(key, { x: kx, y: ky, rows: [] });
      groups.get(key).rows.push(d);
    }
    return [...groups.values()];
  }

  // Numbers by value; an integer past 2^53, which the page carries as its digits in a string,
  // by value too (exactly, as a BigInt), beside numbers and beside its kind; the rest as text.
  const INTEGER_TEXT = /^-?\d+$/;
  function compareValues(a, b) {
    if (typeof a === "number" && typeof b === "number") {
      const d = a - b;
      return Number.isNaN(d) ? 0 : d;
    }
    const exact = (v) =>
      typeof v === "string" && INTEGER_TEXT.test(v)
        ? BigInt(v)
        : Number.isInteger(v)
        ? BigInt(v)
        : undefined;
    const [ea, eb] = [exact(a), exact(b)];
    if (ea !== undefined && eb !== undefined) return ea < eb ? -1 : ea > eb ? 1 : 0;
    // A fraction against an integer's digits: as doubles (a review: 95.5 sorted after them).
    const numeric = (v) =>
      typeof v === "number"
        ? v
        : typeof v === "string" && INTEGER_TEXT.test(v)
        ? Number(v)
        : undefined;
    const [na, nb] = [numeric(a), numeric(b)];
    if (na !== undefined && nb !== undefined) return na - nb || 0;
    return String(a).localeCompare(String(b));
  }

  function fmtDuration(ms) {
    const units = [["d", 86400000], ["h", 3600000], ["m", 60000], ["s", 1000]];
    for (const [name, size] of units) {
      if (Math.abs(ms) >= size && ms % size === 0) return `${ms / size}${name}`;
    }
    return `${ms} ms`;
  }

  function draw(fig) {
    const kind = fig.dataset.chart;
    const data = DATA.charts[fig.dataset.key];
    fig.querySelectorAll("svg, figure, .empty, div.plot").forEach((n) => {
      if (n !== fig) n.remove();
    });
    if (data === undefined || CHARTS[kind] === undefined) {
      empty(fig, "No data.");
    } else {
      // One chart that cannot be drawn says so and leaves the others drawn (a probe: a caller
      // with no mean threw, and every chart after it on the page stayed blank).
      let chart;
      try {
        chart = CHARTS[kind](data, widthOf(fig), fig);
      } catch (err) {
        empty(fig, `This chart could not be drawn: ${err instanceof Error ? err.message : err}`);
        chart = undefined;
      }
      if (chart === null) empty(fig, "No data to draw.");
      else if (chart !== undefined) fig.append(chart);
    }
    fig.dataset.drawn = "1";
  }

  function drawWithin(root) {
    root.querySelectorAll("figure.chart[data-chart]").forEach((fig) => {
      if (fig.dataset.drawn !== "1") draw(fig);
    });
  }

  function sortable(table) {
    const heads = [...table.tHead.rows[0].cells];
    heads.forEach((th, col) => {
      if (!th.dataset.sort) return;
      th.addEventListener("click", () => {
        const asc = !th.classList.contains("sorted-asc");
        heads.forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
        th.classList.add(asc ? "sorted-asc" : "sorted-desc");
        const body = table.tBodies[0];
        const key = (tr) => {
          const td = tr.cells[col];
          if (th.dataset.sort === "num") {
            const v = td.dataset.v;
            if (v === "" || v === undefined) return NaN;
            // An integer past 2^53 stays its digits, compared exactly (compareValues).
            return INTEGER_TEXT.test(v) && !Number.isSafeInteger(Number(v)) ? v : Number(v);
          }
          return td.dataset.v !== undefined && td.dataset.v !== ""
            ? Number(td.dataset.v)
            : td.textContent;
        };
        const rows = [...body.rows].map((tr) => [key(tr), tr]);
        rows.sort((a, b) => {
          const [ka, kb] = [a[0], b[0]];
          const na = typeof ka === "number" && Number.isNaN(ka);
          const nb = typeof kb === "number" && Number.isNaN(kb);
          if (na || nb) return na === nb ? 0 : na ? 1 : -1;
          const c = compareValues(ka, kb);
          return asc ? c : -c;
        });
        rows.forEach(([, tr]) => body.append(tr));
      });
    });
  }

  function filters() {
    document.querySelectorAll("input[data-filter]").forEach((input) => {
      const table = document.getElementById(input.dataset.filter);
      const status = document.querySelector(`select[data-filter-status="${input.dataset.filter}"]`);
      const count = document.querySelector(`[data-count="${input.dataset.filter}"]`);
      const apply = () => {
        const text = input.value.trim().toLowerCase();
        const want = status ? status.value : "";
        let shown = 0;
        // The status is the cell's first badge: an archived run's cell says "archived" too (a
        // probe: "completed" hid an archived completed run).
        for (const tr of table.tBodies[0].rows) {
          const ok = (!text || tr.textContent.toLowerCase().includes(text)) &&
            (!want || tr.cells[2].querySelector(".status").textContent === want);
          tr.hidden = !ok;
          if (ok) shown++;
        }
        if (count) count.textContent = `${shown} run${shown === 1 ? "" : "s"}`;
      };
      input.addEventListener("input", apply);
      if (status) status.addEventListener("change", apply);
    });
  }

  function heatmapControls() {
    document.querySelectorAll("[data-heatmap-controls]").forEach((controls) => {
      controls.addEventListener("change", () => {
        const fig = document.querySelector(
          `figure[data-chart="heatmap"][data-key="${
            CSS.escape(controls.dataset.heatmapControls)
          }"]`,
        );
        if (fig) draw(fig);
      });
    });
  }

  // The section id a `#` fragment names: a fragment that is not valid percent-encoding (`#%E0%A4%A`)
  // names none, and the first section shows (a probe found it throwing, and the page blank).
  function sectionId(fragment) {
    try {
      return decodeURIComponent(fragment);
    } catch (err) {
      if (err instanceof URIError) return "";
      throw err;
    }
  }

  function showSection() {
    const sections = [...document.querySelectorAll("section.view")];
    const id = sectionId(globalThis.location.hash.slice(1));
    const target = sections.find((s) => s.id === id) || sections[0];
    sections.forEach((s) => s.classList.toggle("active", s === target));
    if (target) {
      drawWithin(target);
      if (id && target.id === id) globalThis.scrollTo(0, 0);
    }
  }

  document.querySelectorAll("table[data-sortable]").forEach(sortable);
  filters();
  heatmapControls();
  if (document.body.dataset.mode === "file") {
    globalThis.addEventListener("hashchange", showSection);
    showSection();
  } else {
    drawWithin(document);
  }
})();
