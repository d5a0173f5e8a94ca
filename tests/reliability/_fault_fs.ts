/**
 * A fault-injecting file layer for the power-loss suite (private), plugged
 * into `ledger/durable_fs.ts`'s seam. Modelled on Jepsen's LazyFS and
 * LevelDB's fault-injection env: every call goes to the real file system,
 * and the layer remembers what was made durable:
 *
 * - a file's content as of its last `fsync`/`fdatasync`;
 * - a directory's entries as of its last directory `fsync` (so files
 *   created, renamed or removed since then are not durable).
 *
 * At a seeded operation number the layer "loses power": that call and every
 * later one throw {@linkcode PowerLossError}. {@linkcode FaultFs.restore}
 * then rewrites the tree under the root to what a disk could hold after
 * such a crash: synced data and entries, plus, drawn from the seed, what a
 * real disk may also have kept of the unsynced rest (a prefix of unsynced
 * appends, possibly as zeros when only the new size reached the disk; a
 * directory's unsynced entries). Everything else is dropped.
 *
 * Files written behind the layer's back (not through the seam) count as
 * never synced.
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import { type DurableFile, type DurableFsOps, useDurableFs } from "../../ledger/durable_fs.ts";
import { SeededRandom } from "../_helpers.ts";

/** Thrown by every call at and after the simulated power loss. */
export class PowerLossError extends Error {
  constructor(op: number) {
    super(`simulated power loss at operation ${op}`);
    this.name = "PowerLossError";
  }
}

/** How much of the unsynced state a restore keeps. */
export type CrashModel =
  /** Drop everything not synced (LevelDB's fault env). */
  | "drop"
  /** Per file and directory, drawn from the seed: drop it, or keep some of it (LazyFS-like). */
  | "random";

type Entry = { kind: "file"; id: number } | { kind: "dir" };

/** The fault layer over one directory tree. */
export class FaultFs implements DurableFsOps {
  readonly root: string;
  /** Operations seen so far. */
  ops = 0;
  /** The operation number that loses power (Infinity: never). */
  readonly crashAt: number;
  #crashed = false;
  #nextId = 1;
  #idOf = new Map<string, number>();
  #durableData = new Map<number, Uint8Array>();
  #durableDirs = new Map<string, Map<string, Entry>>();
  #handles = new Set<Deno.FsFile>();
  #restoreSeam: () => void = () => {};

  private constructor(root: string, crashAt: number) {
    this.root = resolve(root);
    this.crashAt = crashAt;
  }

  /**
   * Snapshot `root` (everything in it counts as durable) and route the seam
   * through the layer until {@linkcode restore} or {@linkcode detach}.
   */
  static async attach(root: string, crashAt = Infinity): Promise<FaultFs> {
    const layer = new FaultFs(root, crashAt);
    await layer.#snapshot(layer.root);
    layer.#restoreSeam = useDurableFs(layer);
    return layer;
  }

  /** True once power was lost. */
  get crashed(): boolean {
    return this.#crashed;
  }

  /** Stop routing the seam through the layer (a run without a crash). */
  detach(): void {
    this.#restoreSeam();
    for (const file of this.#handles) closeQuietly(file);
    this.#handles.clear();
  }

  async #snapshot(dir: string): Promise<void> {
    const entries = new Map<string, Entry>();
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) {
        entries.set(entry.name, { kind: "dir" });
        await this.#snapshot(path);
      } else if (entry.isFile) {
        const id = this.#nextId++;
        this.#idOf.set(path, id);
        this.#durableData.set(id, await Deno.readFile(path));
        entries.set(entry.name, { kind: "file", id });
      }
    }
    this.#durableDirs.set(dir, entries);
  }

  /** Count one operation; lose power when its number comes up. */
  tick(): void {
    if (this.#crashed) throw new PowerLossError(this.ops);
    this.ops += 1;
    if (this.ops >= this.crashAt) {
      this.#crashed = true;
      throw new PowerLossError(this.ops);
    }
  }

  #inside(path: string): boolean {
    const rel = relative(this.root, path);
    return rel === "" || (!rel.startsWith("..") && !rel.startsWith("/"));
  }

  async open(path: string, options: Deno.OpenOptions): Promise<DurableFile> {
    this.tick();
    const abs = resolve(path);
    const file = await Deno.open(path, options);
    this.#handles.add(file);
    let id = this.#idOf.get(abs);
    if (id === undefined || options.createNew) {
      id = this.#nextId++;
      this.#idOf.set(abs, id);
    }
    return new FaultFile(this, file, id);
  }

  async mkdir(path: string): Promise<void> {
    this.tick();
    await Deno.mkdir(path);
  }

  async rename(from: string, to: string): Promise<void> {
    this.tick();
    await Deno.rename(from, to);
    const id = this.#idOf.get(resolve(from));
    this.#idOf.delete(resolve(from));
    if (id !== undefined) this.#idOf.set(resolve(to), id);
    else this.#idOf.delete(resolve(to));
  }

  async remove(path: string): Promise<void> {
    this.tick();
    await Deno.remove(path, { recursive: true });
    const abs = resolve(path);
    for (const key of [...this.#idOf.keys()]) {
      if (key === abs || key.startsWith(`${abs}/`)) this.#idOf.delete(key);
    }
  }

  async syncDir(path: string): Promise<void> {
    this.tick();
    const dir = resolve(path);
    if (!this.#inside(dir)) return; // above the root: nothing of ours to keep
    this.#durableDirs.set(dir, await this.#liveEntries(dir));
  }

  async #liveEntries(dir: string): Promise<Map<string, Entry>> {
    const entries = new Map<string, Entry>();
    for await (const entry of Deno.readDir(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) entries.set(entry.name, { kind: "dir" });
      else if (entry.isFile) entries.set(entry.name, { kind: "file", id: this.#idFor(path) });
    }
    return entries;
  }

  /** The id of the file at `path`; a file made behind the layer's back gets one (never synced). */
  #idFor(path: string): number {
    let id = this.#idOf.get(path);
    if (id === undefined) {
      id = this.#nextId++;
      this.#idOf.set(path, id);
    }
    return id;
  }

  #pathOf(id: number): string | undefined {
    for (const [path, known] of this.#idOf) if (known === id) return path;
    return undefined;
  }

  /** A sync of file `id`: its current content is durable. */
  async markSynced(id: number): Promise<void> {
    const path = this.#pathOf(id);
    if (path === undefined) return; // removed while open: nothing reachable to keep
    this.#durableData.set(id, await Deno.readFile(path));
  }

  forget(file: Deno.FsFile): void {
    this.#handles.delete(file);
  }

  /**
   * Power comes back: close every handle, rewrite the tree under the root to
   * what survived (see the module doc), and route the seam back to the real
   * file system. Returns a short description of what was kept, for failures.
   */
  async restore(model: CrashModel, rng: SeededRandom): Promise<string[]> {
    this.#crashed = true;
    this.detach();
    const notes: string[] = [];
    const tree = await this.#survivingTree(this.root, model, rng, notes);
    for await (const entry of Deno.readDir(this.root)) {
      await Deno.remove(join(this.root, entry.name), { recursive: true });
    }
    await writeTree(this.root, tree);
    return notes;
  }

  async #survivingTree(
    dir: string,
    model: CrashModel,
    rng: SeededRandom,
    notes: string[],
  ): Promise<Tree> {
    let entries = this.#durableDirs.get(dir) ?? new Map<string, Entry>();
    if (model === "random" && rng.next() < 0.5 && await isDir(dir)) {
      entries = await this.#liveEntries(dir); // the directory's metadata reached the disk anyway
      notes.push(`live entries of ${relative(this.root, dir) || "."}`);
    }
    const tree: Tree = new Map();
    for (const [name, entry] of [...entries].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const path = join(dir, name);
      if (entry.kind === "dir") {
        tree.set(name, await this.#survivingTree(path, model, rng, notes));
      } else {
        tree.set(name, await this.#survivingData(entry.id, path, model, rng, notes));
      }
    }
    return tree;
  }

  async #survivingData(
    id: number,
    path: string,
    model: CrashModel,
    rng: SeededRandom,
    notes: string[],
  ): Promise<Uint8Array> {
    const synced = this.#durableData.get(id) ?? new Uint8Array(0);
    if (model === "drop") return synced;
    const livePath = this.#pathOf(id);
    const live = livePath === undefined ? synced : await Deno.readFile(livePath);
    if (live.length <= synced.length || !startsWith(live, synced) || rng.next() < 0.4) {
      return synced;
    }
    const kept = rng.int(1, live.length - synced.length);
    const out = live.slice(0, synced.length + kept);
    if (rng.next() < 0.3) out.fill(0, synced.length); // the size reached the disk, not the data
    notes.push(`${relative(this.root, path)}: kept ${kept} unsynced bytes`);
    return out;
  }
}

type Tree = Map<string, Tree | Uint8Array>;

async function writeTree(dir: string, tree: Tree): Promise<void> {
  for (const [name, node] of tree) {
    const path = join(dir, name);
    if (node instanceof Uint8Array) {
      await Deno.writeFile(path, node);
    } else {
      await Deno.mkdir(path);
      await writeTree(path, node);
    }
  }
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > data.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

function closeQuietly(file: Deno.FsFile): void {
  try {
    file.close();
  } catch (err) {
    if (!(err instanceof Deno.errors.BadResource)) throw err; // already closed by its owner
  }
}

/** A file handle of the layer: counts operations and reports syncs. */
class FaultFile implements DurableFile {
  #layer: FaultFs;
  #file: Deno.FsFile;
  #id: number;

  constructor(layer: FaultFs, file: Deno.FsFile, id: number) {
    this.#layer = layer;
    this.#file = file;
    this.#id = id;
  }

  write(data: Uint8Array): Promise<number> {
    this.#layer.tick();
    return this.#file.write(data);
  }
  read(buffer: Uint8Array): Promise<number | null> {
    this.#layer.tick();
    return this.#file.read(buffer);
  }
  seek(offset: number, whence: Deno.SeekMode): Promise<number> {
    this.#layer.tick();
    return this.#file.seek(offset, whence);
  }
  async syncData(): Promise<void> {
    this.#layer.tick();
    await this.#layer.markSynced(this.#id); // no real sync needed: the layer keeps the copy
  }
  async sync(): Promise<void> {
    this.#layer.tick();
    await this.#layer.markSynced(this.#id);
  }
  truncate(size?: number): Promise<void> {
    this.#layer.tick();
    return this.#file.truncate(size);
  }
  lock(exclusive?: boolean): Promise<void> {
    this.#layer.tick();
    return this.#file.lock(exclusive);
  }
  tryLock(exclusive?: boolean): Promise<boolean> {
    this.#layer.tick();
    return this.#file.tryLock(exclusive);
  }
  unlock(): Promise<void> {
    return this.#file.unlock();
  }
  stat(): Promise<Deno.FileInfo> {
    this.#layer.tick();
    return this.#file.stat();
  }
  close(): void {
    this.#layer.forget(this.#file);
    closeQuietly(this.#file);
  }
}
