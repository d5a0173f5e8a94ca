/**
 * A seeded generator of realistic, hazard-laden ledger logs for the
 * differential audit of the indexer (`rebuild_fuzz_test.ts`), with an
 * oracle computed from the generated lines alone: which lines are events,
 * which copy of a repeated `event_id` wins (the smallest
 * `(timestamp_ms, file, line)`, SPEC 7), which lines are `ingest_errors`.
 *
 * The log is kept as a model (files of tagged lines plus an optional torn
 * tail) that each step changes and then writes to disk: whole lifecycles of
 * several runs with annotations (SPEC 4, 11), and the hazards a real log
 * has: the same id again elsewhere, earlier or later, with the same or other
 * content; garbage, blank, invalid and non-UTF-8 lines; torn last lines
 * completed later (or written over by a restarted writer); files appended,
 * rewritten, shrunk and removed; events in the wrong day folder; equal
 * timestamps across files.
 *
 * @module
 */
import { join } from "node:path";
import { SeededRandom } from "../_helpers.ts";

const ENCODER = new TextEncoder();
const NEWLINE = 0x0a;
const DAY_MS = 86_400_000;
/** First day of every generated log: 2026-01-10 (in the past, far from "stale" edges). */
const BASE_DAY_MS = Date.UTC(2026, 0, 10);
/** Most part files of one log. */
const FILES_MAX = 8;

/** One complete line of a part file (its bytes end with `\n`). */
export interface Line {
  /** The line's bytes, newline included. */
  bytes: Uint8Array;
  /** What the generator meant: a valid event, or a line the index must report. */
  kind: "event" | "bad";
  /** A valid event only when it is the first line of its file (it starts with a BOM). */
  bom?: boolean;
  /** For an event: its id and time. */
  id?: string;
  ts?: number;
  /** For an event: the object written (to repeat it, changed or not). */
  obj?: Record<string, unknown>;
}

/** A part file of the model. */
export interface ModelFile {
  /** Name relative to the events directory. */
  name: string;
  /** Complete lines. */
  lines: Line[];
  /** A torn last line: the first `cut` bytes of `line` (no newline). */
  tail?: { line: Line; cut: number };
}

/** The bytes of `f` on disk. */
export function contentOf(f: ModelFile): Uint8Array {
  const parts = f.lines.map((l) => l.bytes);
  if (f.tail !== undefined) parts.push(f.tail.line.bytes.subarray(0, f.tail.cut));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Event types that annotate a run (SPEC 11): alone, they make no run. */
const ANNOTATIONS = new Set(["run.tagged", "run.noted", "run.archived", "run.restored"]);

/** What the index must hold for the log as modelled. */
export interface Expected {
  /** `event_id` -> winning `file:line`. */
  winners: Map<string, string>;
  /** Losing copies, `event_id file:line`, sorted. */
  losers: string[];
  /** Bad lines and torn tails, `file:line`, sorted. */
  errors: string[];
  /** Runs of the winning events other than annotations (which alone make no run), sorted. */
  runs: string[];
}

/** The oracle: what the index of `files` must hold (SPEC 7), from the model alone. */
export function expectedIndex(files: Iterable<ModelFile>): Expected {
  const copies = new Map<
    string,
    { ts: number; file: string; line: number; run: string; own: boolean }[]
  >();
  const errors: string[] = [];
  for (const f of files) {
    f.lines.forEach((l, i) => {
      const line = i + 1;
      const valid = l.kind === "event" && (l.bom !== true || i === 0);
      if (!valid) {
        errors.push(`${f.name}:${line}`);
        return;
      }
      const list = copies.get(l.id!) ?? [];
      const own = !ANNOTATIONS.has(String(l.obj!.event_type));
      list.push({ ts: l.ts!, file: f.name, line, run: String(l.obj!.run_id), own });
      copies.set(l.id!, list);
    });
    if (f.tail !== undefined) errors.push(`${f.name}:${f.lines.length + 1}`);
  }
  const winners = new Map<string, string>();
  const losers: string[] = [];
  const runs = new Set<string>();
  for (const [id, list] of copies) {
    list.sort((a, b) =>
      a.ts - b.ts || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) || a.line - b.line
    );
    winners.set(id, `${list[0].file}:${list[0].line}`);
    if (list[0].own) runs.add(list[0].run);
    for (const c of list.slice(1)) losers.push(`${id} ${c.file}:${c.line}`);
  }
  return { winners, losers: losers.sort(), errors: errors.sort(), runs: [...runs].sort() };
}

/** How a generated log is shaped. */
export interface LogShape {
  /** Days the log spans (1-6). */
  days: number;
  /** Bytes of filler in an unknown field of each event (0: none), to make files span ranges. */
  padBytes: number;
  /** Give some runs this host's name and a pid that is gone (exercises the liveness rows). */
  localHost?: string;
  /**
   * Whether steps write bad lines (torn tails aside). Without them every
   * batch of a full rebuild is clean, the case its fast path takes.
   */
  badLines: boolean;
}

interface RunScript {
  id: string;
  events: Record<string, unknown>[];
  next: number;
}

/** What one step changed, for choosing rebuild options that keep full and incremental equal. */
export interface StepChanges {
  /** Days of the files written or removed. */
  days: Set<string>;
}

/**
 * The generator and model of one seeded log. `step()` changes the model;
 * `write(root)` puts the changed files on disk with increasing mtimes.
 */
export class FuzzLog {
  /** The seeded generator every choice comes from. */
  readonly rng: SeededRandom;
  /** How the log is shaped. */
  readonly shape: LogShape;
  /** The part files as they are now, by name relative to the events directory. */
  readonly files = new Map<string, ModelFile>();
  /** Every event line ever written (to repeat one, even from a removed file). */
  readonly history: Line[] = [];
  #runs: RunScript[] = [];
  #ids = 0;
  #mtimeS = 1_800_000_000;
  #onDisk = new Map<string, Uint8Array>();
  #seed: number;

  /** A log of `seed`; `shape` fixes what it does not leave to the seed. */
  constructor(seed: number, shape?: Partial<LogShape>) {
    this.#seed = seed;
    this.rng = new SeededRandom(seed);
    this.shape = {
      days: shape?.days ?? this.rng.int(1, 6),
      padBytes: shape?.padBytes ?? 0,
      localHost: shape?.localHost,
      badLines: shape?.badLines ?? true,
    };
    const runCount = this.rng.int(2, 8);
    for (let i = 0; i < runCount; i++) this.#runs.push(this.#script(`run-${seed}-${i}`));
  }

  /** A random element of `list` (not empty), from the log's seeded generator. */
  pick<T>(list: readonly T[]): T {
    return list[this.rng.int(0, list.length - 1)];
  }

  /** True with probability `p`, from the log's seeded generator. */
  chance(p: number): boolean {
    return this.rng.next() < p;
  }

  #dayName(dayIndex: number): string {
    return new Date(BASE_DAY_MS + dayIndex * DAY_MS).toISOString().slice(0, 10);
  }

  #newId(ts: number): string {
    this.#ids++;
    return this.chance(0.5)
      ? `${ts}_${(this.#seed * 1000 + this.#ids).toString(16).padStart(8, "0")}`
      : `ev-${this.#seed}-${this.#ids}`;
  }

  /** The whole lifecycle of one run, timestamps increasing from a random start. */
  #script(runId: string): RunScript {
    let ts = BASE_DAY_MS + this.rng.int(0, this.shape.days * DAY_MS - 1);
    const events: Record<string, unknown>[] = [];
    const add = (type: string, fields: Record<string, unknown> = {}) => {
      // Equal timestamps happen (two writers in one ms, backfills).
      ts += this.chance(0.15) ? 0 : this.rng.int(1, 30 * 60_000);
      events.push({ event_type: type, run_id: runId, timestamp_ms: ts, ...fields });
    };
    const annotate = () => {
      const r = this.rng.int(0, 3);
      if (r === 0) {
        add("run.tagged", {
          tags: this.chance(0.5)
            ? { label: `L${this.rng.int(0, 3)}`, k: this.pick(["a", "b", ""]) }
            : { label: "" },
        });
      } else if (r === 1) add("run.noted", { note: this.pick(["ok", "é ü 日本", "re-run"]) });
      else if (r === 2) add("run.archived", this.chance(0.5) ? { reason: "old" } : {});
      else add("run.restored");
    };
    if (this.chance(0.9)) {
      add("run.created", {
        run_type: this.pick(["path_only", "policy", "sweep"]),
        config: { interval: this.pick(["1m", "5m"]), stopPct: this.rng.int(1, 9) / 10 },
        data_fingerprint: `fp${this.rng.int(0, 2)}`,
      });
    }
    if (this.chance(0.85)) {
      const local = this.shape.localHost !== undefined && this.chance(0.3);
      add("run.started", {
        host: local ? this.shape.localHost : "fuzz-host",
        pid: local ? 4_000_000 + this.rng.int(0, 1000) : this.rng.int(100, 999),
      });
    }
    const phases = this.rng.int(0, 3);
    for (let p = 0; p < phases; p++) {
      const name = this.pick(["plan", "load", "simulate", "report"]);
      add("phase.started", { phase_name: name, phase_order: p });
      if (this.chance(0.2)) annotate();
      const trials = this.rng.int(0, 4);
      for (let t = 0; t < trials; t++) {
        add("trial.recorded", {
          trial_id: `t${this.rng.int(0, 5)}`, // a trial id recorded again happens
          params: { stop: this.rng.int(1, 9) / 10 },
          metrics: { sharpe: this.chance(0.1) ? "__NAN__" : this.rng.int(-20, 30) / 10 },
        });
      }
      if (this.chance(0.8)) {
        add("phase.completed", {
          phase_name: name,
          duration_ms: this.rng.int(0, 5000),
          output_summary: { rows: this.rng.int(0, 100) },
        });
      }
    }
    for (let a = this.rng.int(0, 2); a > 0; a--) {
      add("artifact.created", {
        artifact_type: this.pick(["paths", "trades"]),
        artifact_path: `artifacts/runs/${runId}/${this.pick(["paths", "trades"])}.parquet`,
        size_bytes: this.rng.int(0, 1e6),
      });
    }
    if (this.chance(0.2)) {
      add("baseline.completed", {
        alerts_total: 10,
        alerts_ok: this.rng.int(0, 10),
        artifact_path: `artifacts/runs/${runId}/baseline.parquet`,
      });
    }
    const ending = this.rng.int(0, 5);
    if (ending <= 2) {
      add("run.completed", {
        summary: { calls: this.rng.int(0, 9), ok: true },
        artifact_paths: { paths: `artifacts/runs/${runId}/paths.parquet` },
      });
      if (ending === 2) { // completed twice, or completed and then failed
        if (this.chance(0.5)) add("run.completed", { summary: { calls: 0 }, artifact_paths: {} });
        else add("run.failed", { error: { message: "late boom" } });
      }
    } else if (ending === 3) {
      add(
        "run.failed",
        this.chance(0.5)
          ? { error: { message: "boom", code: 3 }, phase_name: "load" }
          : { error: { message: "boom" } },
      );
    }
    for (let n = this.rng.int(0, 3); n > 0; n--) annotate();
    return { id: runId, events, next: 0 };
  }

  /** A finished event object as a line: envelope first, the Python or ledger shape. */
  #eventLine(obj: Record<string, unknown>, opts: { crlf?: boolean; bom?: boolean } = {}): Line {
    const fields = { ...obj };
    if (this.shape.padBytes > 0) fields.pad = "x".repeat(this.rng.int(1, this.shape.padBytes));
    // Now and then a line past LONG_LINE_BYTES (8 KiB), which the checks read in slices.
    if (this.chance(0.01)) fields.long_pad = "y".repeat(this.rng.int(8_200, 20_000));
    let text = JSON.stringify(fields).replaceAll('"__NAN__"', "NaN");
    // The same integer written as a float (1768000000000.0) is the same time (docs/EVENTS.md).
    if (this.chance(0.05)) text = text.replace(/"timestamp_ms":(\d+),/, '"timestamp_ms":$1.0,');
    // A key repeated at the top level keeps its first value, as DuckDB reads it.
    if (this.chance(0.03)) text = text.slice(0, -1) + ',"event_id":"repeated-key"}';
    if (opts.bom) text = "\uFEFF" + text;
    text += opts.crlf ? "\r\n" : "\n";
    return {
      bytes: ENCODER.encode(text),
      kind: "event",
      bom: opts.bom,
      id: String(obj.event_id),
      ts: Number(obj.timestamp_ms),
      obj,
    };
  }

  #withEnvelope(o: Record<string, unknown>): Record<string, unknown> {
    const { event_type, run_id, timestamp_ms, ...rest } = o;
    const ts = Number(timestamp_ms);
    const out: Record<string, unknown> = {
      event_type,
      event_id: this.#newId(ts),
      timestamp_ms: ts,
      run_id,
    };
    if (this.chance(0.5)) out.schema_version = this.chance(0.9) ? 1 : null;
    return { ...out, ...rest };
  }

  /** A file for an event of time `ts`: mostly in its day folder, sometimes elsewhere. */
  #fileFor(ts: number): ModelFile {
    const day = `day=${new Date(ts).toISOString().slice(0, 10)}`;
    const inDay = [...this.files.values()].filter((f) => f.name.startsWith(day + "/"));
    const room = this.files.size < FILES_MAX;
    if (this.files.size > 0 && (this.chance(0.05) || (!room && inDay.length === 0))) {
      return this.pick([...this.files.values()]); // the wrong day folder
    }
    if (inDay.length > 0 && !(room && this.chance(0.1))) return this.pick(inDay);
    return this.#newFile(day);
  }

  #newFile(dayDir?: string): ModelFile {
    const day = dayDir ?? `day=${this.#dayName(this.rng.int(0, this.shape.days - 1))}`;
    for (;;) {
      const n = this.rng.int(1, 999);
      const base = this.pick([
        `part-${String(n).padStart(6, "0")}.jsonl`, // the Python writer's
        `w${n.toString(16)}-000001.jsonl`, // an in-process writer's
        `emit-${String(n).padStart(6, "0")}.jsonl`, // the shared CLI part (read through a copy)
        // Names with glob characters (a copy made by hand, a tool's suffix): read as named.
        this.pick([`g${n % 4}.jsonl`, `g[${n % 4}${n % 3}].jsonl`, "g*.jsonl", "g?.jsonl"]),
      ]);
      const name = `${day}/${base}`;
      if (this.files.has(name)) continue;
      const f: ModelFile = { name, lines: [] };
      this.files.set(name, f);
      // Windows tools write a byte order mark: valid at the start of a file only.
      if (this.chance(0.05)) this.#append(f, this.#eventLine(this.#nextEvent(), { bom: true }));
      return f;
    }
  }

  /** The next event of a random run that has one left (or an annotation of a finished run). */
  #nextEvent(): Record<string, unknown> {
    const open = this.#runs.filter((r) => r.next < r.events.length);
    if (open.length === 0) {
      const r = this.pick(this.#runs);
      // A run's script may hold no event at all (no creation, start, phase nor ending).
      const last = r.events.at(-1)?.timestamp_ms ?? BASE_DAY_MS;
      return this.#withEnvelope({
        event_type: "run.noted",
        run_id: r.id,
        timestamp_ms: Number(last) + this.rng.int(0, 1000),
        note: "after the end",
      });
    }
    const r = this.pick(open);
    return this.#withEnvelope(r.events[r.next++]);
  }

  /**
   * Append `line` to `f`. A torn tail is completed first, except that a
   * tail cut inside its first key may be written over by a restarted
   * writer: the two become one bad line.
   */
  #append(f: ModelFile, line: Line): void {
    if (f.tail !== undefined) {
      if (f.tail.cut <= 10 && this.chance(0.3)) {
        const head = f.tail.line.bytes.subarray(0, f.tail.cut);
        const merged = new Uint8Array(head.length + line.bytes.length);
        merged.set(head);
        merged.set(line.bytes, head.length);
        f.lines.push({ bytes: merged, kind: "bad" });
        f.tail = undefined;
        return;
      }
      f.lines.push(f.tail.line);
      f.tail = undefined;
    }
    if (line.kind === "bad" && f.lines.length === 0 && startsWithBom(line.bytes)) {
      // The bad line "a BOM not at the start" as a file's first line would be a valid event
      // (seed 906 of the verify fuzzer): a space before it keeps it bad, and not JSON.
      line = { ...line, bytes: new Uint8Array([0x20, ...line.bytes]) };
    }
    f.lines.push(line);
    if (line.kind === "event") this.history.push(line);
  }

  #badLine(): Line {
    const id = `bad-${this.#seed}-${++this.#ids}`;
    const run = this.pick(this.#runs).id;
    const base = { event_id: id, timestamp_ms: BASE_DAY_MS + 5, run_id: run };
    const texts = [
      "garbage",
      "not json {",
      "",
      "   ",
      "\r",
      "\0\0\0\0",
      "[1,2]",
      "42",
      '"text"',
      "{}",
      JSON.stringify({ event_type: "run.exploded", ...base }),
      JSON.stringify({ event_type: "run.created", ...base, run_type: "x" }), // no config
      JSON.stringify({ event_type: "phase.started", ...base, phase_name: "p", phase_order: -1 }),
      JSON.stringify({ event_type: "run.started", ...base, schema_version: 99 }),
      // Past INTEGER: a bad line's event columns are computed too, and must not fail the build.
      JSON.stringify({ event_type: "run.started", ...base, schema_version: 2 ** 53 - 1 }),
      JSON.stringify({ event_type: "run.started", ...base, timestamp_ms: "soon" }),
      JSON.stringify({ event_type: "run.started", ...base, run_id: "" }),
      JSON.stringify({ event_type: "run.tagged", ...base, tags: { a: 1 } }),
      JSON.stringify({ event_type: "run.failed", ...base, error: {} }),
      JSON.stringify({ event_type: "trial.recorded", ...base, trial_id: "t", params: {} }),
      "\uFEFF" + JSON.stringify({ event_type: "run.restored", ...base }), // BOM not at the start
    ];
    if (this.chance(0.01)) {
      // Longer than LINE_BYTES_MAX (1 MiB): reported, never indexed, whatever the ranges.
      const text = JSON.stringify({ event_type: "run.noted", ...base, note: "y".repeat(1 << 20) });
      return { bytes: ENCODER.encode(text + "\n"), kind: "bad" };
    }
    if (this.chance(0.15)) {
      // Not UTF-8: a Latin-1 byte inside an otherwise valid event.
      const head = ENCODER.encode(
        JSON.stringify({ event_type: "run.noted", ...base, note: "caf" }).slice(0, -2),
      );
      const bytes = new Uint8Array([...head, 0xe9, 0x22, 0x7d, NEWLINE]);
      return { bytes, kind: "bad" };
    }
    return { bytes: ENCODER.encode(this.pick(texts) + "\n"), kind: "bad" };
  }

  /** The same `event_id` again: the same bytes, or an earlier, later or other copy. */
  #repeat(): Line {
    const orig = this.pick(this.history);
    const variant = this.rng.int(0, 5);
    if (variant === 0) return orig;
    const obj = { ...orig.obj! };
    const ts = Number(obj.timestamp_ms);
    if (variant === 1) obj.timestamp_ms = Math.max(0, ts - this.rng.int(1, 2 * DAY_MS));
    else if (variant === 2) obj.timestamp_ms = ts + this.rng.int(1, 2 * DAY_MS);
    else if (variant === 3) obj.copy = this.rng.int(0, 99); // same time, other content
    else if (variant === 4) obj.run_id = this.pick(this.#runs).id; // same id, another run
    else {
      return this.#eventLine({
        event_type: "run.noted",
        event_id: obj.event_id,
        timestamp_ms: ts,
        run_id: obj.run_id,
        note: "same id, other type",
      });
    }
    return this.#eventLine(obj);
  }

  /** Change the model by one step of writers' activity and hazards. */
  step(): void {
    const start = new Map([...this.files].map(([k, f]) => [k, contentOf(f)]));
    const events = this.rng.int(0, 300);
    for (let i = 0; i < events; i++) {
      const obj = this.#nextEvent();
      const f = this.#fileFor(Number(obj.timestamp_ms));
      this.#append(f, this.#eventLine(obj, { crlf: this.chance(0.03) }));
      if (this.shape.badLines && this.chance(0.03)) {
        this.#append(this.pick([...this.files.values()]), this.#badLine());
      }
    }
    if (this.files.size === 0) this.#newFile();
    const all = () => [...this.files.values()];
    if (this.history.length > 0 && this.chance(0.6)) {
      for (let n = this.rng.int(1, 6); n > 0; n--) {
        const target = this.chance(0.2) && this.files.size < FILES_MAX
          ? this.#newFile()
          : this.pick(all());
        this.#append(target, this.#repeat());
      }
    }
    if (this.shape.badLines && this.chance(0.5)) {
      for (let n = this.rng.int(1, 4); n > 0; n--) this.#append(this.pick(all()), this.#badLine());
    }
    if (this.chance(0.35)) this.#tear(this.pick(all()));
    if (this.chance(0.12)) this.#rewrite(this.pick(all()));
    if (this.chance(0.1)) this.#shrink(this.pick(all()));
    if (this.chance(0.08) && this.files.size > 1) this.files.delete(this.pick(all()).name);
    if (this.chance(0.06)) this.#rename(this.pick(all()));
    if (this.chance(0.05)) this.#newFile(); // an empty part (a writer that wrote nothing yet)
    for (const f of this.files.values()) this.#keepDetectable(f, start.get(f.name));
  }

  /** Move a file to another name, maybe another day folder: its lines are read anew there. */
  #rename(f: ModelFile): void {
    this.files.delete(f.name);
    const moved = this.#newFile();
    moved.lines = [...moved.lines, ...f.lines];
    moved.tail = f.tail;
  }

  /** Leave a torn last line: part of a new event, no newline. */
  #tear(f: ModelFile): void {
    if (f.tail !== undefined) return;
    const line = this.#eventLine(this.#nextEvent());
    const cut = this.chance(0.3) ? this.rng.int(1, 10) : this.rng.int(1, line.bytes.length - 1);
    f.tail = { line, cut };
  }

  /** Rewrite a file in place: lines dropped, replaced, or another tail. */
  #rewrite(f: ModelFile): void {
    const lines = f.lines.filter(() => !this.chance(0.2));
    if (lines.length > 0 && this.chance(0.5)) {
      lines[this.rng.int(0, lines.length - 1)] = this.shape.badLines && this.chance(0.5)
        ? this.#badLine()
        : this.#eventLine(this.#nextEvent());
    }
    f.lines = lines;
    if (this.chance(0.5)) f.tail = undefined;
    for (const l of lines) if (l.kind === "event") this.history.push(l);
  }

  /** Cut a file at a random byte: what is left of the cut line is a torn tail. */
  #shrink(f: ModelFile): void {
    const size = contentOf(f).length;
    if (size === 0) return;
    let at = this.rng.int(0, size - 1);
    const kept: Line[] = [];
    for (const l of f.lines) {
      if (at >= l.bytes.length) {
        kept.push(l);
        at -= l.bytes.length;
        continue;
      }
      f.tail = at > 0 ? { line: l, cut: at } : undefined;
      f.lines = kept;
      return;
    }
    if (f.tail !== undefined) f.tail = at > 0 ? { line: f.tail.line, cut: at } : undefined;
  }

  /**
   * The indexer does not see an edit before the last indexed line of a file
   * that also grew, when that line's bytes stay where they were (documented
   * in `planScan`: the log is append-only). Such a change is not one this
   * audit should count, so a blank line is put first, which moves them.
   */
  #keepDetectable(f: ModelFile, before: Uint8Array | undefined): void {
    for (let round = 0; round < 3 && before !== undefined; round++) {
      const now = contentOf(f);
      const indexedEnd = before.lastIndexOf(NEWLINE) + 1;
      if (now.length <= before.length || indexedEnd === 0) return;
      if (equalBytes(now.subarray(0, indexedEnd), before.subarray(0, indexedEnd))) return;
      const lastStart = before.lastIndexOf(NEWLINE, indexedEnd - 2) + 1;
      const was = before.subarray(lastStart, indexedEnd);
      if (!equalBytes(now.subarray(lastStart, indexedEnd), was)) return;
      f.lines.unshift({ bytes: ENCODER.encode("\n"), kind: "bad" });
    }
  }

  /**
   * Put the model on disk under `root`: changed files rewritten with a new
   * mtime (one second later than any before), removed ones removed.
   * Returns the days touched.
   */
  async write(root: string): Promise<StepChanges> {
    const days = new Set<string>();
    for (const [name] of this.#onDisk) {
      if (this.files.has(name)) continue;
      await Deno.remove(join(root, "events", name));
      this.#onDisk.delete(name);
      days.add(name.slice(4, 14));
    }
    for (const f of this.files.values()) {
      const bytes = contentOf(f);
      const old = this.#onDisk.get(f.name);
      if (old !== undefined && equalBytes(old, bytes)) continue;
      const path = join(root, "events", f.name);
      await Deno.mkdir(join(path, ".."), { recursive: true });
      await Deno.writeFile(path, bytes);
      this.#mtimeS += 1;
      await Deno.utime(path, this.#mtimeS, this.#mtimeS);
      this.#onDisk.set(f.name, bytes);
      days.add(f.name.slice(4, 14));
    }
    return { days };
  }
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `bytes` start with the UTF-8 byte order mark. */
function startsWithBom(bytes: Uint8Array): boolean {
  return bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
}
