/**
 * Randomized differential audit of `ledger verify` (`verifyLog`) against the
 * index a full rebuild makes of the same log, and against the oracle of the
 * log generator (`tests/indexer/_fuzz_log.ts`). For each seed a generated
 * log (repeated ids earlier, later, identical and conflicting; torn tails;
 * invalid lines) gets, on some seeds, the markers of dead `emit --stdin`
 * batches in `events/.pending` as `ledger/shared_part.ts` writes them
 * (cutting nothing when committed or unparsable). Then these must agree:
 *
 * - verify's events per day and in total (each id once, in the day of its
 *   counted line) with `count(*)` of `events` by the day of `file`;
 * - verify's per-day counts by type with the index's;
 * - verify's invalid lines plus its torn tails with `ingest_errors` (the
 *   index reports a torn tail as an ingest error; verify lists it apart);
 * - verify's repeated ids, their lines and `counted` with `event_duplicates`
 *   and the row of `events`;
 * - verify's runs with the runs of `events`;
 * - all of it with the oracle, computed from the model cut where the
 *   markers cut.
 *
 * A few seeds run by default (well under 15 s); `LEDGER_VERIFY_FUZZ_SEEDS=N`
 * runs N seeds from `LEDGER_VERIFY_FUZZ_SEED_START` (default 1), and
 * `LEDGER_VERIFY_FUZZ_KEEP=1` keeps the log of a failing seed.
 *
 * @module
 */
import { deepStrictEqual as deepEqual } from "node:assert/strict";
import { join } from "node:path";
import { rebuildIndex } from "../../indexer/rebuild.ts";
import { DuckDBInstance } from "../../indexer/duckdb.ts";
import { verifyLog, type VerifyReport } from "../../ledger/verify.ts";
import { ENVELOPE_FIELDS, EVENT_FIELD_RULES } from "../../ledger/field_rules.ts";
import { contentOf, expectedIndex, FuzzLog, type ModelFile } from "../indexer/_fuzz_log.ts";

/** Seeds run by default. */
const DEFAULT_SEEDS = 4;

/** A dead batch's marker: its part, the size it recorded, and how it is written. */
interface Marker {
  file: string;
  /** The size the marker records. */
  size: number;
  /** Whether it cuts (false: committed, or not parsable). */
  cuts: boolean;
}

/**
 * Leave markers of dead batches on some parts: a size at a line boundary
 * (a batch appended the lines after it), at the end (a batch that wrote
 * nothing), past the end, or a marker that cuts nothing (unparsable, or of
 * a committed batch on several parts); the legacy name without `.size` now
 * and then.
 */
async function leaveMarkers(log: FuzzLog, root: string): Promise<Marker[]> {
  const markers: Marker[] = [];
  if (!log.chance(0.6)) return markers;
  const pending = join(root, "events", ".pending");
  await Deno.mkdir(pending, { recursive: true });
  const files = [...log.files.values()];
  for (let n = log.rng.int(1, 3); n > 0; n--) {
    const f = log.pick(files);
    if (markers.some((m) => m.file === f.name)) continue;
    const size = contentOf(f).length;
    const boundaries = [0];
    for (const l of f.lines) boundaries.push(boundaries[boundaries.length - 1] + l.bytes.length);
    const r = log.rng.int(0, 9);
    let recorded = log.pick(boundaries);
    if (r === 0) recorded = size + log.rng.int(1, 100);
    // Inside a line: not what a writer records (it cuts a torn tail first), but a part
    // replaced under its marker's name (restored, copied by hand) has other line ends.
    if (r === 3 && size > 1) recorded = log.rng.int(1, size - 1);
    let text = JSON.stringify({ size: recorded });
    let cuts = true;
    if (r === 1) {
      text = '{"size":';
      cuts = false;
    } else if (r === 2) {
      const batch = `b${log.rng.int(0, 1e6)}`;
      text = JSON.stringify({ size: recorded, batch });
      cuts = !log.chance(0.5);
      if (!cuts) await Deno.writeFile(join(pending, `${batch}.commit`), new Uint8Array());
    }
    const [dayDir, part] = f.name.split("/");
    const legacy = log.chance(0.2) ? "" : ".size";
    await Deno.writeTextFile(join(pending, `${dayDir.slice(4)}__${part}${legacy}`), text);
    markers.push({ file: f.name, size: recorded, cuts });
    if (cuts && log.chance(0.2)) {
      // A record under the other name too (a 0.2.0 writer's and a later one's): the smaller cuts.
      const other = log.pick(boundaries);
      const otherName = `${dayDir.slice(4)}__${part}${legacy === "" ? ".size" : ""}`;
      await Deno.writeTextFile(join(pending, otherName), JSON.stringify({ size: other }));
      markers[markers.length - 1].size = Math.min(recorded, other);
    }
  }
  return markers;
}

/** The model as the readers see it: each part cut back to what its marker acknowledged. */
function acknowledgedModel(files: Iterable<ModelFile>, markers: Marker[]): ModelFile[] {
  const out: ModelFile[] = [];
  for (const f of files) {
    const m = markers.find((x) => x.file === f.name && x.cuts);
    if (m === undefined || m.size >= contentOf(f).length) {
      out.push(f);
      continue;
    }
    const cut: ModelFile = { name: f.name, lines: [] };
    let at = 0;
    const all = f.tail === undefined ? f.lines : [...f.lines, f.tail.line];
    for (const l of all) {
      if (at + l.bytes.length > m.size) {
        // A line the cut goes through: what is left of it is a torn tail.
        if (m.size > at) cut.tail = { line: l, cut: m.size - at };
        break;
      }
      cut.lines.push(l);
      at += l.bytes.length;
    }
    out.push(cut);
  }
  return out;
}

/** What a verify report says, in the terms of the index. */
function fromVerify(report: VerifyReport) {
  const losers: string[] = [];
  const winners = new Map<string, string>();
  const retries: string[] = [];
  for (const d of report.duplicates) {
    if (d.sameEvent) retries.push(d.eventId);
    const counted = `${d.counted.file}:${d.counted.line}`;
    winners.set(d.eventId, counted);
    for (const o of d.occurrences) {
      const at = `${o.file}:${o.line}`;
      if (at !== counted) losers.push(`${d.eventId} ${at}`);
    }
  }
  const errors = report.days.flatMap((d) =>
    [...d.invalid, ...d.torn].map((f) => `${f.file}:${f.line}`)
  );
  const perDay = report.days.filter((d) => d.events > 0).map((d) => `${d.day} ${d.events}`);
  const byType = report.days.flatMap((d) =>
    Object.entries(d.eventsByType).map(([t, n]) => `${d.day} ${t} ${n}`)
  );
  return {
    events: report.totals.events,
    perDay: perDay.sort(),
    byType: byType.sort(),
    errors: errors.sort(),
    losers: losers.sort(),
    winners,
    runs: report.totals.runs,
    retries: retries.sort(),
  };
}

const DECODER = new TextDecoder();

/**
 * The repeated ids of `files` whose lines all hold the same event apart
 * from `timestamp_ms` (a retry, `DuplicateId.sameEvent`), from the lines'
 * text: the first of a repeated top-level key counts (the generator repeats
 * only `event_id`, last), `NaN` reads as `null`, and an absent or null
 * `schema_version` is version 1.
 */
function expectedRetries(files: ModelFile[]): string[] {
  const keys = new Map<string, Set<string>>();
  const lines = new Map<string, number>();
  for (const f of files) {
    f.lines.forEach((l, i) => {
      if (l.kind !== "event" || (l.bom === true && i !== 0)) return;
      const text = DECODER.decode(l.bytes).replace(/^\uFEFF/, "").trim()
        .replace(/,"event_id":"repeated-key"}$/, "}").replaceAll("NaN", "null");
      const { timestamp_ms: _t, schema_version: _v, ...rest } = JSON.parse(text);
      const key = JSON.stringify(Object.keys(rest).sort().map((k) => [k, rest[k]]));
      const set = keys.get(l.id!) ?? new Set();
      set.add(key);
      keys.set(l.id!, set);
      lines.set(l.id!, (lines.get(l.id!) ?? 0) + 1);
    });
  }
  return [...keys].filter(([id, set]) => lines.get(id)! > 1 && set.size === 1).map(([id]) => id)
    .sort();
}

/** The same, from the index at `dbPath`. */
async function fromIndex(dbPath: string) {
  const instance = await DuckDBInstance.create(dbPath, { access_mode: "READ_ONLY" });
  const conn = await instance.connect();
  const texts = async (sql: string) =>
    (await conn.runAndReadAll(sql)).getRowObjectsJS().map((r) => String(r.x));
  try {
    const winners = new Map<string, string>();
    for (
      const x of await texts(`SELECT event_id || ' ' || file || ':' || line AS x FROM events
        WHERE event_id IN (SELECT event_id FROM event_duplicates)`)
    ) {
      const space = x.lastIndexOf(" ");
      winners.set(x.slice(0, space), x.slice(space + 1));
    }
    return {
      events: Number((await texts(`SELECT count(*) AS x FROM events`))[0]),
      perDay: await texts(
        `SELECT substr(file, 5, 10) || ' ' || count(*) AS x FROM events GROUP BY substr(file, 5, 10) ORDER BY x`,
      ),
      byType: await texts(
        `SELECT substr(file, 5, 10) || ' ' || event_type || ' ' || count(*) AS x FROM events
         GROUP BY substr(file, 5, 10), event_type ORDER BY x`,
      ),
      errors: await texts(`SELECT file || ':' || line AS x FROM ingest_errors ORDER BY x`),
      losers: await texts(
        `SELECT event_id || ' ' || file || ':' || line AS x FROM event_duplicates ORDER BY x`,
      ),
      winners,
      runs: Number((await texts(`SELECT count(*) AS x FROM runs_status`))[0]),
    };
  } finally {
    conn.disconnectSync();
    instance.closeSync();
  }
}

type Seen = ReturnType<typeof fromVerify>;

/** Where `a` (verify) and `b` differ, one line each. */
function differences(what: string, a: Seen, b: Partial<Seen>): string[] {
  const out: string[] = [];
  for (const key of Object.keys(b) as (keyof Seen)[]) {
    const x = a[key];
    const y = b[key];
    // Sorted alike: the index orders text by its UTF-8 bytes, JavaScript by UTF-16 units.
    const sorted = (z: unknown) =>
      z instanceof Map
        ? [...z].map((e) => e.join(" ")).sort()
        : Array.isArray(z)
        ? [...z].sort()
        : z;
    const sx = sorted(x);
    const sy = sorted(y);
    if (JSON.stringify(sx) === JSON.stringify(sy)) continue;
    if (Array.isArray(sx) && Array.isArray(sy)) {
      const setX = new Set(sx as string[]);
      const setY = new Set(sy as string[]);
      out.push(
        `${what} ${key}: verify ${sx.length}, other ${sy.length}; only verify ${
          JSON.stringify((sx as string[]).filter((v) => !setY.has(v)).slice(0, 5))
        }; only other ${JSON.stringify((sy as string[]).filter((v) => !setX.has(v)).slice(0, 5))}`,
      );
    } else out.push(`${what} ${key}: verify ${JSON.stringify(sx)}, other ${JSON.stringify(sy)}`);
  }
  return out;
}

/** Values a mutated field takes: JSON text, some of it only as Python or DuckDB write it. */
const HOSTILE_VALUES: readonly string[] = [
  "null",
  "NaN",
  "Infinity",
  "-inf",
  "-1",
  "0",
  "1",
  "1.0",
  "1.5",
  "1e3",
  "1.7688672e12",
  "9007199254740991",
  "9007199254740992",
  "253402300799999",
  "253402300800000",
  "true",
  "[]",
  "{}",
  '{"message":"m"}',
  '{"message":""}',
  '{"message":null}',
  '{"a":"b"}',
  '{"a":1}',
  '{"\\ud83d":1}',
  '{"a":{"b":"\\udc00"}}',
  '["x","\\ud800\\udc00"]',
  '{"a":1,"a":2}',
  '""',
  '"1"',
  '"x"',
  '"run 7/b"',
  '"-lead"',
  '"\\ud83d"',
  '"\\ud83d\\ude00"',
  JSON.stringify("a".repeat(128)),
  JSON.stringify("a".repeat(129)),
  JSON.stringify("a".repeat(256)),
  JSON.stringify("a".repeat(257)),
  JSON.stringify("\u{1F600}".repeat(200)),
  JSON.stringify("\u{1F600}".repeat(257)),
  "[".repeat(63) + "]".repeat(63),
  "[".repeat(64) + "]".repeat(64),
  '{"k":' + "[".repeat(62) + "]".repeat(62) + "}",
];

/** Fields a mutation picks from: the envelope, every type's (the registry's order), and a few others. */
const MUTATED_FIELDS: readonly string[] = [
  ...new Set([
    ...ENVELOPE_FIELDS,
    ...Object.values(EVENT_FIELD_RULES).flatMap((rules) => rules.map((rule) => rule.field)),
  ]),
  "__proto__",
  "extra",
  "",
  "é",
  "k\ud83d",
  "\ude00",
];

/**
 * Lines made from valid events of `log` by one to three mutations each (a
 * field set to a hostile value, removed, or given twice; a trailing comma):
 * what the writer, verify and the indexer must judge alike
 * (docs/EVENTS.md, "What makes a line valid").
 */
function mutants(log: FuzzLog, count: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < count && log.history.length > 0; i++) {
    const obj: Record<string, unknown> = { ...log.pick(log.history).obj! };
    obj.event_id = `m-${i}`;
    const raw = new Map<string, string>();
    for (let n = log.rng.int(1, 3); n > 0; n--) {
      const field = log.pick(MUTATED_FIELDS);
      if (log.chance(0.2)) {
        delete obj[field];
        raw.delete(field);
      } else raw.set(field, log.pick(HOSTILE_VALUES));
    }
    const entries = Object.keys(obj).filter((k) => !raw.has(k)).map((k) =>
      `${JSON.stringify(k)}:${JSON.stringify(obj[k]).replaceAll('"__NAN__"', "NaN")}`
    );
    for (const [k, v] of raw) entries.push(`${JSON.stringify(k)}:${v}`);
    if (log.chance(0.1)) entries.push(entries[log.rng.int(0, entries.length - 1)]);
    lines.push(`{${entries.join(",")}${log.chance(0.05) ? "," : ""}}`);
  }
  return lines;
}

/** Names of copied parts: past U+FFFF, just below it, accented, the replacement character. */
const COPY_NAMES: readonly string[] = [
  "\u{1F600}.jsonl",
  "\uFFFF.jsonl",
  "\uFF5E.jsonl",
  "é.jsonl",
  "\uFFFD.jsonl",
  "Z.jsonl",
];

/** Run one seed; its differences (empty: none). */
export async function auditSeed(seed: number, keep = false): Promise<string[]> {
  const root = await Deno.makeTempDir({ prefix: `ledger-vfuzz-${seed}-` });
  let found: string[] = [];
  try {
    const probe = new FuzzLog(seed);
    const padBytes = probe.chance(0.3) ? probe.rng.int(100, 600) : 0;
    const log = new FuzzLog(seed, { padBytes });
    for (let step = log.rng.int(1, 3); step > 0; step--) {
      log.step();
      await log.write(root);
    }
    // Copies under names outside ASCII: the same ids at the same times, so the file name
    // decides which line counts (UTF-8 byte order: U+FFFF before U+1F600, unlike UTF-16).
    if (log.chance(0.3)) {
      for (let n = log.rng.int(1, 2); n > 0; n--) {
        const f = log.pick([...log.files.values()]);
        const name = `${f.name.slice(0, 15)}${log.pick(COPY_NAMES)}`;
        if (log.files.has(name)) continue;
        log.files.set(name, { name, lines: [...f.lines], tail: f.tail });
      }
      await log.write(root);
    }
    const markers = await leaveMarkers(log, root);
    const report = await verifyLog(root, { findingsListedMax: 1e9 });
    const dbPath = join(root, "index", "runs.duckdb");
    await rebuildIndex(root, { full: true });
    const v = fromVerify(report);
    const idx = await fromIndex(dbPath);
    const readable = acknowledgedModel(log.files.values(), markers);
    const oracle = expectedIndex(readable);
    const oracleWinners = new Map(
      [...oracle.winners].filter(([id]) => v.winners.has(id) || idx.winners.has(id)),
    );
    // Mutated events in a log of their own, judged by verify and the index alone.
    const mutantRoot = join(root, "mutants");
    const mutantDir = join(mutantRoot, "events", "day=2026-01-10");
    await Deno.mkdir(mutantDir, { recursive: true });
    await Deno.writeTextFile(
      join(mutantDir, "m-000001.jsonl"),
      mutants(log, 200).map((l) => l + "\n").join(""),
    );
    await rebuildIndex(mutantRoot, { full: true });
    const mutantsVerified = fromVerify(await verifyLog(mutantRoot, { findingsListedMax: 1e9 }));
    const mutantsIndexed = await fromIndex(join(mutantRoot, "index", "runs.duckdb"));
    found = [
      ...differences("mutants: index", mutantsVerified, mutantsIndexed),
      ...differences("index", v, idx),
      ...differences("oracle", v, {
        events: oracle.winners.size,
        errors: oracle.errors,
        losers: oracle.losers,
        winners: oracleWinners,
        runs: oracle.runs.length,
        retries: expectedRetries(readable),
      }),
    ];
    return found;
  } finally {
    if (found.length > 0 && keep) console.error(`seed ${seed}: log kept in ${root}`);
    else await Deno.remove(root, { recursive: true });
  }
}

Deno.test("verify agrees with a full rebuild and with an oracle on generated logs", async () => {
  const count = Number(Deno.env.get("LEDGER_VERIFY_FUZZ_SEEDS") ?? DEFAULT_SEEDS);
  const first = Number(Deno.env.get("LEDGER_VERIFY_FUZZ_SEED_START") ?? 1);
  const keep = Deno.env.get("LEDGER_VERIFY_FUZZ_KEEP") === "1";
  const failed: number[] = [];
  const startMs = performance.now();
  for (let seed = first; seed < first + count; seed++) {
    const found = await auditSeed(seed, keep);
    if (found.length === 0) continue;
    failed.push(seed);
    console.error(`seed ${seed}:\n  ${found.join("\n  ")}`);
  }
  if (count > DEFAULT_SEEDS) {
    console.error(
      `${count} seeds in ${Math.round(performance.now() - startMs)} ms, ${failed.length} failed`,
    );
  }
  deepEqual(failed, [], `seeds of ${count} that failed (details above)`);
});
