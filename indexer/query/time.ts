/**
 * Instants as the query surface reads them: a UTC date (`2026-01-20`) or an
 * ISO 8601 instant (`2026-01-20T04:00`, `2026-01-20T04:00:00.5Z`,
 * `2026-01-20T06:00+02:00`). Anything without an offset is UTC: nothing
 * here depends on the machine's time zone. RFC 3339's lowercase `t` and
 * `z` read as `T` and `Z`; every year from 0000 to 9999 is read as written.
 *
 * @module
 */

/**
 * The text is not a date or instant this module reads.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { InstantFormatError } from "./time.ts";
 * assert.match(new InstantFormatError("soon").message, /"soon"/);
 * ```
 */
export class InstantFormatError extends Error {
  /** The text given. */
  readonly value: string;
  /** Create the error for `value`. */
  constructor(value: string) {
    super(
      `Invalid date or instant ${JSON.stringify(value)}: expected YYYY-MM-DD or ` +
        "YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH[:MM]] (UTC when no offset)",
    );
    this.name = "InstantFormatError";
    this.value = value;
  }
}

// The offset belongs to a time: `2026-01-20Z` is neither a day nor an instant (a time probe: read
// as the instant 00:00, `--until 2026-01-20Z` left out the day that `--until 2026-01-20` keeps).
const INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** Whether `text` is a date only (`YYYY-MM-DD`). */
export function isDateOnly(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text.trim());
}

/**
 * The epoch ms at which the UTC day `day` (exactly `YYYY-MM-DD`, a day that
 * exists) begins, or undefined for anything else. Years 0000-0099 as
 * written: `Date.UTC` reads them as 1900-1999 (a time audit found that
 * `0001-01-01` was refused by each of three parsers of a day).
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { utcDayStartMs } from "./time.ts";
 * assert.equal(utcDayStartMs("2026-01-23"), Date.UTC(2026, 0, 23));
 * assert.equal(new Date(utcDayStartMs("0001-01-01")!).toISOString(), "0001-01-01T00:00:00.000Z");
 * assert.equal(utcDayStartMs("2026-02-30"), undefined);
 * assert.equal(utcDayStartMs(" 2026-01-23"), undefined);
 * ```
 */
export function utcDayStartMs(day: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (m === null) return undefined;
  const ms = new Date(0).setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === day ? ms : undefined;
}

/** Largest UTC offset accepted, in hours (ISO 8601 allows up to 23:59; in use: +14:00). */
const OFFSET_HOURS_MAX = 14;

/**
 * Milliseconds since the epoch of a UTC date or ISO instant; an instant
 * finer than a millisecond is its millisecond plus 0.5 (no whole millisecond
 * equals it, and it compares with each as the exact instant would); throws
 * {@linkcode InstantFormatError}.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { parseInstant } from "./time.ts";
 * assert.equal(parseInstant("1970-01-02"), 86_400_000);
 * assert.equal(parseInstant("1970-01-01T01:00+01:00"), 0);
 * // An offset of hours alone, as DuckDB writes a TIMESTAMPTZ (`2026-01-16 09:30:00-05`).
 * assert.equal(parseInstant("1970-01-01 00:00:00-05"), 5 * 3_600_000);
 * // Past the millisecond, half of one: no whole millisecond equals it.
 * assert.equal(parseInstant("1970-01-01T00:00:00.0125Z"), 12.5);
 * assert.equal(parseInstant("2026-01-21T00:05:00.000000001Z"), Date.UTC(2026, 0, 21, 0, 5) + 0.5);
 * // RFC 3339's lowercase t and z; a year below 100 is that year, not 19xx.
 * assert.equal(parseInstant("1970-01-01t00:00:01z"), 1000);
 * assert.equal(new Date(parseInstant("0001-01-01")).toISOString(), "0001-01-01T00:00:00.000Z");
 * // An offset no clock uses is a typo, refused rather than read as a shifted time.
 * assert.throws(() => parseInstant("2026-01-02T00:00+25:00"), /Invalid date or instant/);
 * assert.throws(() => parseInstant("2026-01-02T00:00+23:99"), /Invalid date or instant/);
 * // An offset without a time: neither a day nor an instant.
 * assert.throws(() => parseInstant("2026-01-20Z"), /Invalid date or instant/);
 * ```
 */
export function parseInstant(text: string): number {
  const m = INSTANT.exec(text.trim());
  if (m === null) throw new InstantFormatError(text);
  const [, y, mo, d, h = "00", mi = "00", s = "00", frac = "", zone] = m;
  const ms = Number(frac.padEnd(3, "0").slice(0, 3));
  // Digits past the millisecond stay a fraction: `> ...00.1234Z` must not match `...00.123`.
  // Half a millisecond, whatever they are: every time compared is whole ms, so any fraction
  // compares alike, and 0.5 is exact at every epoch (a probe: `.000000001` added to 1.7e12 ms
  // vanished, the double's spacing there being 2.4e-4, and `--since` took `...00.000Z`).
  const subMs = /[1-9]/.test(frac.slice(3)) ? 0.5 : 0;
  // Not Date.UTC: it reads years 0-99 as 1900-1999 (an audit: `0001-01-01` was refused).
  const check = new Date(0);
  check.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  check.setUTCHours(Number(h), Number(mi), Number(s), ms);
  const utc = check.getTime() + subMs;
  if (
    check.getUTCFullYear() !== Number(y) || check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59
  ) {
    throw new InstantFormatError(text);
  }
  if (zone === undefined || zone.toUpperCase() === "Z") return utc;
  const sign = zone[0] === "-" ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2) || "0");
  // Offsets in use run from -12:00 to +14:00; +25:00 or +23:99 is a typo, not a time.
  if (hours > OFFSET_HOURS_MAX || minutes > 59) throw new InstantFormatError(text);
  return utc - sign * (hours * 60 + minutes) * 60_000;
}

/**
 * SQL for the ISO 8601 UTC text, with milliseconds, of a column of ms since
 * the epoch: what `ledger runs --json` and `export` write for a time, the
 * text `JSON.stringify(new Date(ms))` gives.
 *
 * @example
 * ```ts
 * import assert from "node:assert";
 * import { isoTimeSql } from "./time.ts";
 * assert.equal(
 *   isoTimeSql("r.created_at_ms"),
 *   "strftime(make_timestamp(r.created_at_ms * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')",
 * );
 * ```
 */
export function isoTimeSql(column: string): string {
  return `strftime(make_timestamp(${column} * 1000), '%Y-%m-%dT%H:%M:%S.%gZ')`;
}
