/**
 * `deno task sample-legacy [PATH]`: write a small legacy DuckDB (schema
 * `optimizer`, tables `runs_d` and `runs_status`, every column of the
 * earlier Python tools) so a migration can be rehearsed end to end before it
 * is run on the real file: `ledger runs --legacy-db`, `ledger legacy
 * backfill`, `parity`, `archive` (docs/MIGRATION.md). Built with the test
 * suite's legacy fixture, so the rehearsal and the tests read the same shape.
 *
 * Refuses to overwrite an existing file: the real legacy file lives at the
 * same default path and is not replaceable.
 *
 * @module
 */
import { createLegacyDb, type FixtureRun } from "../tests/legacy/_legacy_fixture.ts";
import { exists } from "../ledger/exists.ts";
import { DEFAULT_LEGACY_DB_PATH } from "../legacy/read.ts";

const DAY_MS = 24 * 3_600_000;
/** The first sample run's creation time: a week before the 2026-01-23 cutover. */
const SAMPLE_T0_MS = Date.UTC(2026, 0, 16, 9, 30);

/**
 * The sample's runs: completed, failed, still running and one without a
 * status row, each created before the cutover.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { sampleLegacyRuns } from "./sample_legacy.ts";
 * assert.equal(sampleLegacyRuns().length, 5);
 * ```
 */
export function sampleLegacyRuns(): FixtureRun[] {
  const run = (i: number, fields: Partial<FixtureRun>): FixtureRun => {
    const created = SAMPLE_T0_MS + i * DAY_MS;
    return {
      run_id: `bt-202601${String(16 + i).padStart(2, "0")}-${String.fromCharCode(97 + i)}`,
      run_type: "baseline",
      created_at_ms: created,
      config: JSON.stringify({ interval: "1m", horizon_hours: 24, callers: 12 }),
      data_fingerprint: "sample-fp-0001",
      started_at_ms: created + 1_000,
      ...fields,
    };
  };
  return [
    run(0, {
      completed_at_ms: SAMPLE_T0_MS + 61_000,
      summary_json: JSON.stringify({ alerts_total: 320, alerts_ok: 317, hit_2x_rate: 0.24 }),
    }),
    run(1, {
      run_type: "policy",
      completed_at_ms: SAMPLE_T0_MS + DAY_MS + 95_000,
      summary_json: JSON.stringify({ calls: 320, win_rate: 0.31, median_return_bps: -2137 }),
    }),
    run(2, {
      failed_at_ms: SAMPLE_T0_MS + 2 * DAY_MS + 4_000,
      error_json: JSON.stringify({ message: "candles missing for 3 mints" }),
    }),
    run(3, {}),
    run(4, { started_at_ms: null, noStatusRow: true }),
  ];
}

/**
 * Write the sample legacy file at `path`; throws when a file is already there.
 *
 * @example
 * ```ts
 * import { writeSampleLegacyDb } from "./sample_legacy.ts";
 * const dir = await Deno.makeTempDir();
 * try {
 *   await writeSampleLegacyDb(`${dir}/baseline_results.duckdb`);
 * } finally {
 *   await Deno.remove(dir, { recursive: true });
 * }
 * ```
 */
export async function writeSampleLegacyDb(path: string): Promise<void> {
  if (await exists(path)) {
    throw new Deno.errors.AlreadyExists(
      `${path} already exists: the sample never overwrites a legacy file (give another PATH)`,
    );
  }
  await createLegacyDb(path, sampleLegacyRuns());
}

/** What `deno task sample-legacy --help` prints. */
const SAMPLE_LEGACY_USAGE = `Usage: deno task sample-legacy [PATH]

Writes a small legacy DuckDB (schema optimizer, tables runs_d and runs_status)
at PATH (default ${DEFAULT_LEGACY_DB_PATH}) to rehearse a migration
(docs/MIGRATION.md). Never overwrites a file.`;

if (import.meta.main) {
  const [arg, ...more] = Deno.args;
  if (arg === "--help" || arg === "-h") {
    console.log(SAMPLE_LEGACY_USAGE);
    Deno.exit(0);
  }
  // A flag is not a path (a probe: `--help` wrote a legacy DuckDB named --help).
  if (arg?.startsWith("-") || arg === "" || more.length > 0) {
    console.error(`sample-legacy: expected one path, got ${JSON.stringify(Deno.args)}`);
    console.error(SAMPLE_LEGACY_USAGE);
    Deno.exit(2);
  }
  const path = arg ?? DEFAULT_LEGACY_DB_PATH;
  try {
    await writeSampleLegacyDb(path);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    console.error(`sample-legacy: ${message.split("\n")[0]}`);
    Deno.exit(1);
  }
  console.log(`sample legacy DuckDB written: ${path} (${sampleLegacyRuns().length} runs)`);
  console.log(`next: deno task ledger runs --legacy-db ${path}`);
}
