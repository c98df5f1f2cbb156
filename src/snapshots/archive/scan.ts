/**
 * Reads the spool directory for a snapshot while uploads and workers keep running, without ever taking a
 * half-written file:
 * - `tmp/` holds uploads in progress: only the directory itself is recorded, never what is in it. Anything
 *   else in the spool appeared by an atomic rename of a complete entry, so it is complete;
 * - a spool entry (`<state>/<id>`: one file holding the data and its sidecar, or, as earlier versions wrote
 *   them, a directory of `data` and `meta.json`) is taken as a unit: all its files are opened before any is
 *   read, and an open file keeps its bytes even if a worker renames or prunes the entry meanwhile. When an entry moves between the listing and the opening (a worker claimed or finished
 *   it), it is looked up in the other states and taken from where it is now, once: every entry appears in
 *   the snapshot exactly once, in one state, whole. One caught halfway through its deletion
 *   by retention is left out;
 * - files outside the spool's state directories are taken one by one; one that vanishes is left out.
 * `lost+found` at the root (an ext4 volume's mount point) is skipped.
 */
import type { Dirent, Stats } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../../observability/logger.js';
import { SnapshotError } from '../errors.js';
import type { ManifestDir } from './manifest.js';

export const SPOOL_STATES = ['incoming', 'processing', 'done', 'failed'] as const;
const TMP_DIR = 'tmp';
const SKIPPED_AT_ROOT = new Set(['lost+found']);
const ENTRY_ATTEMPTS = 5;
/**
 * What a complete spool entry in the directory layout holds (spool.ts wrote both before the rename that
 * published it). An entry that is one file is complete by construction: it was renamed into place whole.
 */
const ENTRY_FILES = ['data', 'meta.json'];

export interface OpenFile {
  /** Relative to the root, `/`-separated. */
  readonly path: string;
  readonly handle: FileHandle;
  /** fstat of the open handle: the bytes that will be read. */
  readonly stats: Stats;
}

export interface Unit {
  readonly dirs: readonly ManifestDir[];
  readonly files: readonly OpenFile[];
  close(): Promise<void>;
}

export class SourceScanner {
  readonly root: string;
  /** Entries that moved while being taken, and were taken from their new place. */
  relocated = 0;
  /** Files and entries that disappeared before they could be opened. */
  vanished = 0;
  private readonly captured = new Set<string>();

  constructor(
    root: string,
    private readonly logger?: Logger,
  ) {
    this.root = path.resolve(root);
  }

  async *units(): AsyncGenerator<Unit> {
    let rootStats: Stats;
    try {
      rootStats = await fs.stat(this.root);
    } catch (error) {
      throw new SnapshotError(
        'source_missing',
        `cannot snapshot ${this.root}: ${(error as Error).message}. Is INLET_SPOOL_DIR (or INLET_DATA_DIR) right?`,
        { cause: error },
      );
    }
    if (!rootStats.isDirectory()) {
      throw new SnapshotError('source_missing', `cannot snapshot ${this.root}: it is not a directory.`);
    }
    yield unit([dirOf('', rootStats)], []);

    const entries = await readSorted(this.root);
    // Every state is listed before any entry is opened, so an entry that moves to a later state is
    // recognised there as already taken.
    const listings = new Map<string, string[]>();
    for (const entry of entries) {
      if (entry.isDirectory() && (SPOOL_STATES as readonly string[]).includes(entry.name)) {
        listings.set(
          entry.name,
          (await readSorted(path.join(this.root, entry.name))).map((e) => e.name),
        );
      }
    }
    for (const entry of entries) {
      if (SKIPPED_AT_ROOT.has(entry.name)) continue;
      const rel = entry.name;
      if (entry.isDirectory() && (rel === TMP_DIR || listings.has(rel))) {
        const stats = await fs.stat(path.join(this.root, rel)).catch(() => undefined);
        if (stats !== undefined) yield unit([dirOf(rel, stats)], []);
        if (rel === TMP_DIR) continue;
        for (const id of listings.get(rel) ?? []) {
          if (this.captured.has(id)) continue;
          const taken = await this.takeEntry(rel, id);
          if (taken !== undefined) yield taken;
        }
      } else {
        yield* this.walk(rel, entry);
      }
    }
  }

  /**
   * A spool entry as a unit, from wherever it is by the time it is opened; undefined once it is gone.
   * An entry missing one of its files is being deleted (retention removes the files, then the directory):
   * it is looked at again shortly, and taken as it is only if it stays that way (damaged on disk).
   */
  private async takeEntry(state: string, id: string): Promise<Unit | undefined> {
    let where: string | undefined = state;
    for (let attempt = 0; attempt < ENTRY_ATTEMPTS && where !== undefined; attempt++) {
      const rel = `${where}/${id}`;
      const dirs: ManifestDir[] = [];
      const files: OpenFile[] = [];
      let opened = false;
      try {
        await this.openTree(rel, dirs, files);
        opened = true;
      } catch (error) {
        if (!isGone(error)) {
          await closeAll(files);
          throw error;
        }
      }
      const names = new Set(files.map((f) => f.path.slice(rel.length + 1)));
      const complete =
        (dirs.length === 0 && files.length === 1) || ENTRY_FILES.every((name) => names.has(name));
      if (opened && (complete || attempt === ENTRY_ATTEMPTS - 1)) {
        if (!complete)
          this.logger?.warn('spool entry is incomplete on disk; snapshotted as it is', { path: rel });
        this.captured.add(id);
        if (where !== state) this.relocated++;
        return unit(dirs, files);
      }
      await closeAll(files);
      if (opened) await sleep(10 * (attempt + 1));
      where = await this.locate(id);
    }
    if (where === undefined) {
      this.vanished++;
      this.logger?.debug('spool entry left the spool while it was being snapshotted', { id });
      return undefined;
    }
    throw new SnapshotError(
      'source_changed',
      `spool entry ${id} kept moving between states while it was being snapshotted; try again.`,
    );
  }

  private async locate(id: string): Promise<string | undefined> {
    for (const state of SPOOL_STATES) {
      const found = await fs.stat(path.join(this.root, state, id)).then(
        (s) => s.isDirectory() || s.isFile(),
        () => false,
      );
      if (found) return state;
    }
    return undefined;
  }

  /** Opens `rel`, or every file under it when it is a directory; throws ENOENT-like errors when anything has moved. */
  private async openTree(rel: string, dirs: ManifestDir[], files: OpenFile[]): Promise<void> {
    const abs = path.join(this.root, rel);
    const stats = await fs.stat(abs);
    if (!stats.isDirectory()) {
      files.push(await openFile(this.root, rel));
      return;
    }
    dirs.push(dirOf(rel, stats));
    for (const entry of await readSorted(abs, true)) {
      const child = `${rel}/${entry.name}`;
      if (entry.isDirectory()) await this.openTree(child, dirs, files);
      else if (entry.isFile()) files.push(await openFile(this.root, child));
    }
  }

  /** Anything outside the spool's states: each file its own unit, vanished ones left out. */
  private async *walk(rel: string, entry: Dirent): AsyncGenerator<Unit> {
    const abs = path.join(this.root, rel);
    if (entry.isFile()) {
      const file = await openFile(this.root, rel).catch((error: unknown) => {
        if (isGone(error)) return undefined;
        throw error;
      });
      if (file === undefined) this.vanished++;
      else yield unit([], [file]);
      return;
    }
    if (!entry.isDirectory()) {
      this.logger?.warn('snapshot skips what is neither a file nor a directory', { path: rel });
      return;
    }
    const stats = await fs.stat(abs).catch(() => undefined);
    if (stats === undefined) return;
    yield unit([dirOf(rel, stats)], []);
    let children: Dirent[];
    try {
      children = await readSorted(abs, true);
    } catch (error) {
      if (isGone(error)) return;
      throw error;
    }
    for (const child of children) yield* this.walk(`${rel}/${child.name}`, child);
  }
}

async function openFile(root: string, rel: string): Promise<OpenFile> {
  const handle = await fs.open(path.join(root, rel), 'r');
  try {
    return { path: rel, handle, stats: await handle.stat() };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

async function readSorted(dir: string, strict = false): Promise<Dirent[]> {
  try {
    const entries = await fs.readdir(dir, { withFileTypes: true });
    return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    if (!strict && isGone(error)) return [];
    throw error;
  }
}

function dirOf(rel: string, stats: Stats): ManifestDir {
  return { path: rel, mode: stats.mode & 0o7777, mtimeMs: stats.mtimeMs };
}

function unit(dirs: ManifestDir[], files: OpenFile[]): Unit {
  return {
    dirs,
    files,
    close: () => closeAll(files),
  };
}

async function closeAll(files: readonly OpenFile[]): Promise<void> {
  await Promise.all(files.map((f) => f.handle.close().catch(() => undefined)));
}

function isGone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
