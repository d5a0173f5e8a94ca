/**
 * Rendering of the benchmark results: the machine description, the text
 * table printed by `deno task bench`, and `bench/results.md`.
 *
 * @module
 */
import { cpus } from "node:os";
import type { BenchRow } from "./_result.ts";

/** The machine and run a result set was measured on. */
export interface MachineInfo {
  /** ISO date and time of the run (UTC). */
  date: string;
  /** CPU model. */
  cpu: string;
  /** Logical cores. */
  cores: number;
  /** Total memory, in GiB. */
  memoryGiB: number;
  /** `df` of the benchmark directory: device, file system type, mount point. */
  disk: string;
  /** Kernel release. */
  kernel: string;
  /** Deno version. */
  deno: string;
  /** 1-minute load average at the start and at the end of the run. */
  loadAvg: [number, number];
  /** `quick` or `full`. */
  mode: string;
}

/** Text of `df -PT dir` (device, type, mount), or why it is unknown. */
async function diskOf(dir: string): Promise<string> {
  try {
    const out = await new Deno.Command("df", {
      args: ["-PT", dir],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    const fields = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)?.split(/\s+/);
    if (!out.success || fields === undefined || fields.length < 7) return "unknown (df failed)";
    return `${fields[0]} (${fields[1]}) mounted on ${fields[6]}`;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return "unknown (no df)";
    throw err;
  }
}

function cpuModel(): string {
  return cpus()[0]?.model ?? "unknown";
}

/**
 * Describe this machine for the results (load average at the end is filled
 * in later by the caller).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeMachine } from "./_report.ts";
 * const m = await describeMachine(Deno.cwd(), "quick");
 * assert(m.mode === "quick" && m.cores === navigator.hardwareConcurrency);
 * ```
 */
export async function describeMachine(dir: string, mode: string): Promise<MachineInfo> {
  const load = Deno.loadavg()[0];
  return {
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    cpu: cpuModel(),
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 1024 ** 3),
    disk: await diskOf(dir),
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    loadAvg: [load, load],
    mode,
  };
}

function num(x: number | null | undefined, unit = ""): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "-";
  const digits = Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : Math.abs(x) >= 1 ? 2 : 3;
  const text = x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
  return unit === "" ? text : `${text} ${unit}`;
}

function metText(met: boolean | null | undefined, target: string | undefined): string {
  if (target === undefined) return "";
  if (met === null || met === undefined) return `${target}: n/a`;
  return `${target}: ${met ? "met" : "MISSED"}`;
}

/** Cells of one row: item, what, median, p99, vs, reference, ratio, target, note. */
function cells(row: BenchRow): string[] {
  return [
    String(row.item),
    row.name,
    num(row.median, row.unit),
    row.p99 === undefined ? "" : num(row.p99, row.unit),
    row.reference ?? "",
    row.reference === undefined ? "" : num(row.referenceMedian, row.unit),
    row.ratio === undefined ? "" : row.ratio === null ? "-" : `${num(row.ratio)}x`,
    metText(row.met, row.target),
    row.note ?? "",
  ];
}

const HEADER = ["#", "measure", "median", "p99", "vs", "vs median", "ratio", "target", "note"];

/**
 * The Markdown table of `rows` (also what the terminal shows).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { markdownTable } from "./_report.ts";
 * const text = markdownTable([{ item: 1, name: "x", unit: "ms", median: 1 }]);
 * assert.equal(text.split("\n")[2], "| 1 | x | 1.00 ms |  |  |  |  |  |  |");
 * ```
 */
export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = [`| ${HEADER.join(" | ")} |`, `|${HEADER.map(() => "---").join("|")}|`];
  for (const row of rows) lines.push(`| ${cells(row).join(" | ")} |`);
  return lines.join("\n");
}

/**
 * One line describing the machine.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeMachine, machineLine } from "./_report.ts";
 * const line = machineLine(await describeMachine(Deno.cwd(), "quick"));
 * assert(line.includes("quick run"));
 * ```
 */
export function machineLine(m: MachineInfo): string {
  return `${m.date}, ${m.mode} run: ${m.cores} cores (${m.cpu}), ${m.memoryGiB} GiB, ` +
    `disk ${m.disk}, Linux ${m.kernel}, deno ${m.deno}, ` +
    `load average ${m.loadAvg[0].toFixed(2)} at start, ${m.loadAvg[1].toFixed(2)} at end`;
}

/**
 * The text of `bench/results.md`: how it was made, the machine, the table.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { describeMachine, resultsMarkdown } from "./_report.ts";
 * const text = resultsMarkdown(await describeMachine(Deno.cwd(), "quick"), []);
 * assert(text.startsWith("# Benchmark results"));
 * ```
 */
export function resultsMarkdown(machine: MachineInfo, rows: readonly BenchRow[]): string {
  return [
    "# Benchmark results",
    "",
    "Generated by `deno task bench" + (machine.mode === "quick" ? " --quick" : "") +
    "` (bench/main.ts); do not edit by hand.",
    "Every ratio compares two figures measured in the same run, on the same disk.",
    "",
    `Machine: ${machineLine(machine)}.`,
    "",
    markdownTable(rows),
    "",
  ].join("\n");
}
