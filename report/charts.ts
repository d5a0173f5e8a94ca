/**
 * The chart library and the client script that the report inlines and the
 * UI serves. The library is Observable Plot (with d3, which its UMD build
 * needs), read from its npm package's `dist/` file at run time: the report
 * carries the very file npm shipped, with no CDN and no build step.
 *
 * Why Plot: SVG output that reads well without styling work (axes, legends,
 * tips), histograms, cells (heatmaps), bars and lines in one grammar, and
 * about 490 KB minified with d3, against about 1 MB for Vega-Lite with Vega
 * and vega-embed; uPlot is smaller but draws only time series on a canvas.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

/** The npm files inlined, in load order (d3 first: Plot's UMD build reads the global `d3`). */
export const CHART_LIBRARY_FILES: readonly string[] = [
  "d3/dist/d3.min.js",
  "@observablehq/plot/dist/plot.umd.min.js",
];

/** The chart library is not where npm installs it. */
export class ChartLibraryNotFoundError extends Error {
  /** The file looked for. */
  readonly path: string;
  /** Create the error for `path`. */
  constructor(path: string) {
    super(
      `Chart library file ${path} not found; run \`deno install\` in the project directory`,
    );
    this.name = "ChartLibraryNotFoundError";
    this.path = path;
  }
}

let cached: Promise<string> | null = null;

/**
 * The text of d3 and Observable Plot, one after the other (read once per process).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { CHART_LIBRARY_FILES, chartLibrary } from "./charts.ts";
 * const js = await chartLibrary();
 * // Each npm file follows a comment naming it, d3 first: Plot's UMD build reads the global d3.
 * const [d3At, plotAt] = CHART_LIBRARY_FILES.map((file) => js.indexOf(`// ${file}\n`));
 * assert.ok(d3At === 0 && plotAt > d3At);
 * assert.ok(js.length > 100_000); // the minified files themselves, not a stub
 * assert.equal(chartLibrary(), chartLibrary()); // read once per process
 * ```
 */
export function chartLibrary(): Promise<string> {
  cached ??= readLibrary();
  return cached;
}

async function readLibrary(): Promise<string> {
  const parts: string[] = [];
  for (const file of CHART_LIBRARY_FILES) {
    const path = fileURLToPath(new URL(`../node_modules/${file}`, import.meta.url));
    try {
      parts.push(`// ${file}\n${await Deno.readTextFile(path)}`);
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw new ChartLibraryNotFoundError(path);
      throw err;
    }
  }
  return parts.join("\n;\n");
}

/**
 * The browser script that draws the charts and sorts the tables
 * (`report/_client.js`).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { clientScript } from "./charts.ts";
 * const js = await clientScript();
 * // It reads the chart data from the element the page carries, and draws with Plot.
 * assert.ok(js.includes(`document.getElementById("ledger-data")`));
 * assert.ok(js.includes("Plot.plot("));
 * ```
 */
export async function clientScript(): Promise<string> {
  return await Deno.readTextFile(new URL("./_client.js", import.meta.url));
}
