/**
 * The shape of one benchmark result row of `deno task bench`, shared by the
 * item modules and the report.
 *
 * @module
 */

/** One measured quantity and what it is compared with, measured in the same run. */
export interface BenchRow {
  /** Item number (issues 7 and 12, 1..11). */
  item: number;
  /** What was measured, e.g. `durable emit latency`. */
  name: string;
  /** Unit of `median` and `p99`, e.g. `ms`, `events/s`, `MiB`. */
  unit: string;
  /** Median of the measurement (or the single value). */
  median: number | null;
  /** 99th percentile, where it applies. */
  p99?: number | null;
  /** What the ratio compares with (a floor or a peer), if anything. */
  reference?: string;
  /** Median of the reference, in the same unit. */
  referenceMedian?: number | null;
  /** p99 of the reference, where it applies. */
  referenceP99?: number | null;
  /** `median / referenceMedian` (or p99 over p99 when `ratioOf` says so). */
  ratio?: number | null;
  /** Which figures the ratio divides. @default {"median"} */
  ratioOf?: "median" | "p99";
  /** The target of issue 7, in words, e.g. `p99 <= 1.5x floor`. */
  target?: string;
  /** Whether the target is met in this run; `null` when not measurable. */
  met?: boolean | null;
  /** Sample size, sizes, or why a value is missing. */
  note?: string;
}
