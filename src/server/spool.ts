/**
 * The spool: a directory queue on the server's volume (the EBS mount on EC2) that holds uploads between the
 * `202` and the worker.
 *
 * Layout: `<dir>/{tmp,incoming,processing,done,failed}/<id>` where each entry is one file holding the bytes as
 * received followed by the sidecar (spool-format.ts; entries written by earlier versions are a directory of
 * `data` and `meta.json`, and are still read). One name per entry, rather than a data file and a sidecar side
 * by side, makes every state change a single rename: a claim cannot be split by a crash into a sidecar in one
 * state and its data in another, and the rename that moves the entry is also the lock. One file per entry also
 * makes an upload durable with one fsync of its own, beside the fsync of `incoming/` that concurrent uploads
 * share.
 *
 * `<id>` is generated here, a UUIDv7 (milliseconds first, then a per-process sequence, then random bits), so
 * the client's name never becomes a path, a plain sort of the directory is oldest first, and the same id can
 * be the ingestion's id in the ledger (a uuid column) from the `202` on.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { InletError } from '../errors.js';
import { type Logger, silentLogger } from '../observability/logger.js';
import { DirectorySyncer, writevAll } from '../storage/durable.js';
import { entryTrailer, readEntryAt, type Sidecar } from './spool-format.js';

export interface SpoolEntry {
  readonly id: string;
  /** The client's name, for routing only: it lives in the sidecar and is never part of a path. */
  readonly name: string;
  readonly size: number;
  readonly sha256: string;
  readonly receivedAt: Date;
  /**
   * The file whose first `size` bytes are the data, in the entry's state directory at the time the entry was
   * returned: the entry's own file, or the `data` file of an entry written in the earlier directory layout.
   */
  readonly path: string;
  readonly meta: Readonly<Record<string, string>>;
  /**
   * The data itself, when the process that accepted a small upload still holds it: a worker in that process
   * reads it from here rather than from the file it was synced to moments ago.
   */
  readonly content?: Uint8Array;
}

export type SpoolState = 'incoming' | 'processing' | 'done' | 'failed';

export interface SpoolOptions {
  logger?: Logger;
  /** Accepting stops (`spool_full`) when the volume has less than this many bytes free; default 256 MiB. */
  minFreeBytes?: number;
  /**
   * Records the final verdict (in the ledger) of an entry that cannot be read back, before it moves to
   * `failed/`. When it rejects, the entry goes back to `incoming/` instead, so it stays live and a later
   * claim tries again; a spool without it moves such an entry to `failed/` at once.
   */
  recordUnreadable?: (id: string, error: SpoolError) => Promise<void>;
  /**
   * Where the workers claim in another thread (drain-host.ts): each published entry's sidecar and held bytes
   * are handed to it here, right after the rename, instead of being kept for a claim in this one.
   */
  handOff?: (id: string, sidecar: Sidecar, content: Uint8Array | undefined) => void;
}

export interface AcceptOptions {
  /** The client's name for the file, stored verbatim in the sidecar. */
  name: string;
  /** Bodies longer than this are refused with `too_large` as soon as the limit is crossed. */
  maxBytes: number;
  meta?: Record<string, string>;
  /**
   * Runs around the rename that publishes the entry into `incoming/`: the data and sidecar are durable when it
   * is called, and `publish` must be called once. Throwing removes the entry, so a caller can tie the
   * publication to a database transaction (commit only after `publish`, or refuse and leave nothing).
   */
  aroundPublish?: (entry: SpoolEntry, publish: () => Promise<void>) => Promise<void>;
}

export interface ClaimOptions {
  /** Entries to leave where they are this time (for example, ones waiting out a retry delay). */
  skip?: (id: string) => boolean;
}

/**
 * Codes: `too_large`, `spool_full` (the HTTP layer answers 503/507), `body_failed` (the client's stream broke),
 * `io_failed`, `bad_entry`, `not_processing`.
 */
export class SpoolError extends InletError {}

const STATES: readonly SpoolState[] = ['incoming', 'processing', 'done', 'failed'];
const TMP = 'tmp';
const DEFAULT_MIN_FREE_BYTES = 256 * 1024 * 1024;
/** Often enough that a fast upload cannot overrun the guard by much, rarely enough that statfs costs nothing. */
const SPACE_CHECK_INTERVAL = 4 * 1024 * 1024;
/** How long a free-space reading stands in for a new one: the most that other writers to the volume go unseen. */
const SPACE_READING_MAX_AGE_MS = 1000;
/** Sidecars kept for claims in the accepting process; past this (a backlog), claims read them from disk. */
const MAX_REMEMBERED_SIDECARS = 10_000;
/**
 * A body up to this size is held in memory until it is written with its trailer (one write for both), and
 * kept for a claim in the same process; a larger one is written as it arrives.
 */
const HELD_BODY_BYTES = 64 * 1024;
/** The most held bodies kept for claims, in bytes: past it (a backlog), workers read the files. */
const MAX_REMEMBERED_BYTES = 32 * 1024 * 1024;
const ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** What a claim in the accepting process takes instead of reading the entry back. */
interface Published {
  sidecar: Sidecar;
  content: Uint8Array | undefined;
}

let lastMs = 0;
let sequence = 0;
/**
 * Random bits for ids, drawn 4 KiB at a time: a randomBytes call per id was a call into OpenSSL per upload,
 * about 2% of the accepting thread's time under many small uploads (crypto.randomUUID pools the same way).
 */
const RANDOM_POOL_BYTES = 4096;
let randomPool = Buffer.alloc(0);
let randomOffset = 0;

function randomEight(): Buffer {
  if (randomOffset + 8 > randomPool.byteLength) {
    randomPool = randomBytes(RANDOM_POOL_BYTES);
    randomOffset = 0;
  }
  const bytes = randomPool.subarray(randomOffset, randomOffset + 8);
  randomOffset += 8;
  return bytes;
}

/**
 * A UUIDv7 (RFC 9562) whose 12-bit `rand_a` field counts ids made in the same millisecond by this process,
 * so ids sort in creation order here, which keeps the spool FIFO for a single server.
 */
export function newSpoolId(now: number = Date.now()): string {
  if (now <= lastMs) {
    sequence++;
    // 4096 ids in one millisecond: borrow the next millisecond rather than break the order.
    if (sequence > 0xfff) {
      lastMs++;
      sequence = 0;
    }
  } else {
    lastMs = now;
    sequence = 0;
  }
  const random = randomEight();
  random[0] = ((random[0] as number) & 0x3f) | 0x80;
  const hex = `${lastMs.toString(16).padStart(12, '0')}7${sequence.toString(16).padStart(3, '0')}${random.toString('hex')}`;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The millisecond a spool id was made in. */
export function spoolIdTime(id: string): number {
  return Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}

export function isSpoolId(value: string): boolean {
  return ID_PATTERN.test(value);
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

function isNoSpace(error: unknown): boolean {
  const code = errnoCode(error);
  return code === 'ENOSPC' || code === 'EDQUOT';
}

export class Spool {
  readonly dir: string;
  private readonly logger: Logger;
  private readonly minFreeBytes: number;
  private readonly recordUnreadable: SpoolOptions['recordUnreadable'];
  private readonly handOff: SpoolOptions['handOff'];
  private readonly syncer = new DirectorySyncer();
  /** Bytes received into this spool since it was made: the free-space check subtracts them from its last reading. */
  private received = 0;
  private spaceReading: { free: number; at: number; received: number } | undefined;
  private spaceRead: Promise<number> | undefined;
  /**
   * The sidecars (and small bodies) of entries this instance published and has not claimed yet: a claim in
   * the process that accepted the file takes them from here rather than reading back what it wrote and synced
   * moments ago (thread-pool trips, queued behind the uploads' fsyncs). An entry never changes once written;
   * entries from before a restart, or handed back, are read from disk as before.
   */
  private readonly published = new Map<string, Published>();
  /** Bytes of held bodies in `published`. */
  private rememberedBytes = 0;
  /** Ids listed in `incoming/` and not yet tried by this instance, oldest first. */
  private queued: string[] = [];

  constructor(dir: string, options: SpoolOptions = {}) {
    this.dir = path.resolve(dir);
    this.logger = (options.logger ?? silentLogger).child({ component: 'spool' });
    this.minFreeBytes = options.minFreeBytes ?? DEFAULT_MIN_FREE_BYTES;
    this.recordUnreadable = options.recordUnreadable;
    this.handOff = options.handOff;
  }

  /**
   * Creates the state directories, removes staging leftovers and returns what was in `processing/` so the
   * caller can resume it (`prepare()`, then `resumable()`). Clearing `tmp/` assumes no other process is
   * accepting into this spool at that moment: call it at startup, before serving.
   */
  async open(): Promise<SpoolEntry[]> {
    await this.prepare();
    return this.resumable();
  }

  /** open() without reading `processing/`: for a service whose drain thread resumes those entries itself. */
  async prepare(): Promise<void> {
    for (const sub of [TMP, ...STATES]) await fs.mkdir(path.join(this.dir, sub), { recursive: true });
    const leftovers = await fs.readdir(path.join(this.dir, TMP));
    for (const name of leftovers)
      await fs.rm(path.join(this.dir, TMP, name), { recursive: true, force: true });
    if (leftovers.length > 0) this.logger.warn('removed unfinished uploads', { count: leftovers.length });
  }

  /**
   * The entries in `processing/`, to be handed back and loaded again: claimed by workers that are gone (a
   * process or a drain thread that ended). An entry that cannot be read is quarantined instead, since it
   * would be resumed, fail, and be resumed again every time.
   */
  async resumable(): Promise<SpoolEntry[]> {
    const entries: SpoolEntry[] = [];
    for (const id of await this.list('processing')) {
      const entry = await this.readEntry('processing', id).catch((error: unknown) => error as SpoolError);
      if (entry instanceof Error) {
        // An unreadable entry would be resumed, fail, and be resumed again on every restart.
        await this.quarantine(id, entry);
        continue;
      }
      entries.push(entry);
    }
    if (entries.length > 0)
      this.logger.info('resuming entries left in processing', { count: entries.length });
    return entries;
  }

  /** Resolves only once the data, its sidecar and the entry's name in `incoming/` are on disk. */
  async accept(
    body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    options: AcceptOptions,
  ): Promise<SpoolEntry> {
    const id = newSpoolId();
    const staging = path.join(this.dir, TMP, id);
    const published = path.join(this.dir, 'incoming', id);
    let isPublished = false;
    try {
      await this.ensureSpace();
      const staged = await this.stage(body, staging, options);
      const entry = toEntry(id, published, staged.sidecar);
      const publish = async () => {
        // Remembered before the rename: from the rename on, a worker may claim the entry.
        if (this.handOff === undefined) this.remember(id, staged);
        await this.io(() => fs.rename(staging, published));
        isPublished = true;
        this.handOff?.(id, staged.sidecar, staged.content);
        // Only the new name needs syncing: a rename is atomic, and a leftover under tmp/ is cleared at open().
        await this.io(() => this.syncer.sync(path.join(this.dir, 'incoming')));
      };
      if (options.aroundPublish) await options.aroundPublish(entry, publish);
      else await publish();
      if (!isPublished) throw new SpoolError('io_failed', 'aroundPublish returned without publishing.');
      this.logger.debug('upload spooled', { id, size: staged.sidecar.size });
      return entry;
    } catch (error) {
      this.forget(id);
      // Nothing the caller was not told about may stay behind; a published entry whose directory sync failed
      // may already be claimed, which the engine's ledger makes harmless.
      await fs.rm(staging, { recursive: true, force: true }).catch(() => undefined);
      if (isPublished) await fs.rm(published, { recursive: true, force: true }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Writes the entry's file in `tmp/` (the body, then its sidecar) and returns once it is on disk. Its name
   * in `tmp/` is never synced: only the rename into `incoming/` publishes an entry, and `open()` clears
   * whatever a crash left in `tmp/`. The file is synced through the handle that wrote it: for a small upload,
   * opening it again was as many thread-pool trips as the writes and the sync themselves.
   */
  private async stage(
    body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    staging: string,
    options: AcceptOptions,
  ): Promise<Published> {
    const file = await this.io(() => fs.open(staging, 'wx'));
    try {
      const { size, sha256, held } = await this.receive(body, file, options.maxBytes);
      const sidecar: Sidecar = {
        name: options.name,
        size,
        sha256,
        receivedAt: new Date().toISOString(),
        meta: { ...options.meta },
      };
      // A small body goes down with its trailer in one write.
      await this.io(() => writevAll(file, [...(held ?? []), entryTrailer(sidecar)]));
      await this.io(() => file.sync());
      return { sidecar, content: held === undefined ? undefined : Buffer.concat(held) };
    } finally {
      await file.close().catch(() => undefined);
    }
  }

  private remember(id: string, staged: Published): void {
    if (this.published.size >= MAX_REMEMBERED_SIDECARS) return;
    let content = staged.content;
    if (content !== undefined && this.rememberedBytes + content.byteLength > MAX_REMEMBERED_BYTES) {
      content = undefined;
    }
    this.rememberedBytes += content?.byteLength ?? 0;
    this.published.set(id, { sidecar: staged.sidecar, content });
  }

  /**
   * An entry another thread published (its `handOff`): a claim here takes its sidecar and bytes from memory.
   * One already claimed from disk, because the claim came first, is forgotten when it finishes.
   */
  adopt(id: string, sidecar: Sidecar, content: Uint8Array | undefined): void {
    this.remember(id, { sidecar, content });
  }

  /** What a claim in this process takes instead of reading the entry back, if it was published here. */
  private forget(id: string): Published | undefined {
    const published = this.published.get(id);
    if (published === undefined) return undefined;
    this.published.delete(id);
    this.rememberedBytes -= published.content?.byteLength ?? 0;
    return published;
  }

  /** The rename into `processing/` is the lock: whoever loses it gets ENOENT and tries the next entry. */
  async claim(options: ClaimOptions = {}): Promise<SpoolEntry | undefined> {
    // One listing serves many claims: re-reading a deep queue for every file would cost O(n) each. When
    // the remembered ids yield nothing, the directory is listed again for what arrived since.
    const cached = this.queued.length > 0;
    for (const fresh of cached ? [false, true] : [true]) {
      if (fresh) this.queued = await this.list('incoming');
      const passed: string[] = [];
      try {
        const entry = await this.claimFrom(options, passed);
        if (entry !== undefined) return entry;
      } finally {
        // Entries skipped this time stay candidates for the next claim.
        this.queued.unshift(...passed);
      }
    }
    return undefined;
  }

  /**
   * Claims up to `max` entries, oldest first: the first as `claim` does, the rest from the same listing, so a
   * deep queue is handed out in batches without listing the directory again. With `share`, takes at most that
   * fraction of what is queued (rounded up), leaving the rest to other workers.
   */
  async claimMany(max: number, options: ClaimOptions & { share?: number } = {}): Promise<SpoolEntry[]> {
    const first = await this.claim(options);
    if (first === undefined) return [];
    const entries = [first];
    const limit = Math.min(max, 1 + Math.ceil(this.queued.length / Math.max(1, options.share ?? 1)));
    while (entries.length < limit && this.queued.length > 0) {
      const passed: string[] = [];
      let entry: SpoolEntry | undefined;
      try {
        entry = await this.claimFrom(options, passed);
      } finally {
        this.queued.unshift(...passed);
      }
      if (entry === undefined) break;
      entries.push(entry);
    }
    return entries;
  }

  private async claimFrom(options: ClaimOptions, passed: string[]): Promise<SpoolEntry | undefined> {
    for (let id = this.queued.shift(); id !== undefined; id = this.queued.shift()) {
      if (options.skip?.(id)) {
        passed.push(id);
        continue;
      }
      try {
        await fs.rename(path.join(this.dir, 'incoming', id), path.join(this.dir, 'processing', id));
      } catch (error) {
        if (errnoCode(error) === 'ENOENT') continue;
        throw new SpoolError('io_failed', `Could not claim spool entry ${id}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const published = this.forget(id);
      if (published !== undefined) {
        this.logger.debug('entry claimed', { id });
        return toEntry(id, path.join(this.dir, 'processing', id), published.sidecar, published.content);
      }
      try {
        const entry = await this.readEntry('processing', id);
        this.logger.debug('entry claimed', { id });
        return entry;
      } catch (error) {
        await this.quarantine(id, error as SpoolError);
      }
    }
    return undefined;
  }

  /**
   * An entry in `processing/` that cannot be read: to `failed/` once its verdict is recorded, else back to
   * `incoming/`, so that no entry leaves the live folders with its ledger row still saying `queued`.
   */
  private async quarantine(id: string, error: SpoolError): Promise<void> {
    try {
      await this.recordUnreadable?.(id, error);
    } catch (recordError) {
      this.logger.error('unreadable spool entry kept in incoming until its failure can be recorded', {
        id,
        error,
        recordError,
      });
      await this.move(id, 'processing', 'incoming').catch(() => undefined);
      return;
    }
    this.logger.error('unreadable spool entry moved to failed', { id, error });
    await this.move(id, 'processing', 'failed').catch(() => undefined);
  }

  async finish(entry: SpoolEntry, outcome: 'done' | 'failed'): Promise<void> {
    checkId(entry.id);
    this.forget(entry.id);
    try {
      await this.move(entry.id, 'processing', outcome);
    } catch (error) {
      if (errnoCode(error) === 'ENOENT') {
        throw new SpoolError('not_processing', `Spool entry ${entry.id} is not in processing/.`, {
          cause: error,
        });
      }
      throw new SpoolError(
        'io_failed',
        `Could not finish spool entry ${entry.id}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    this.logger.debug('entry finished', { id: entry.id, outcome });
  }

  /** Hands a claimed entry back to `incoming/` (a retry later, or a shutdown that could not finish it). */
  async release(entry: SpoolEntry): Promise<void> {
    checkId(entry.id);
    try {
      await this.move(entry.id, 'processing', 'incoming');
    } catch (error) {
      throw new SpoolError(
        errnoCode(error) === 'ENOENT' ? 'not_processing' : 'io_failed',
        `Could not hand spool entry ${entry.id} back: ${(error as Error).message}`,
        { cause: error },
      );
    }
    this.logger.debug('entry released', { id: entry.id });
  }

  /** The state an entry is in now, or undefined when there is no such entry (never was, or pruned). */
  async locate(id: string): Promise<SpoolState | undefined> {
    if (!isSpoolId(id)) return undefined;
    for (const state of STATES) {
      const found = await fs.stat(path.join(this.dir, state, id)).then(
        () => true,
        () => false,
      );
      if (found) return state;
    }
    return undefined;
  }

  /**
   * Where an entry is and what it holds, or undefined when the spool has no entry `id`. An entry moves on
   * (a worker claims it, finishes it) between the look and the read; each time the read finds it gone, it is
   * looked for again. It moves only forward, through at most every state, so as many looks are enough.
   */
  async find(id: string): Promise<{ state: SpoolState; entry: SpoolEntry } | undefined> {
    for (let look = 0; look < STATES.length; look++) {
      const state = await this.locate(id);
      if (state === undefined) return undefined;
      const entry = await this.read(state, id);
      if (entry !== undefined) return { state, entry };
    }
    return undefined;
  }

  /** An entry as it is in `state`, or undefined when it has moved on or is unreadable. */
  async read(state: SpoolState, id: string): Promise<SpoolEntry | undefined> {
    if (!isSpoolId(id)) return undefined;
    return this.readEntry(state, id).catch(() => undefined);
  }

  /**
   * Deletes `done/` entries received more than `maxAgeMs` ago, and any beyond the newest `keepCount`: each
   * limit applies on its own. Failed entries are kept for a person to look at.
   */
  async prune(options: { maxAgeMs?: number; keepCount?: number }): Promise<number> {
    const ids = await this.list('done');
    const doomed = new Set<string>();
    if (options.keepCount !== undefined) {
      for (const id of ids.slice(0, Math.max(0, ids.length - options.keepCount))) doomed.add(id);
    }
    if (options.maxAgeMs !== undefined) {
      const cutoff = Date.now() - options.maxAgeMs;
      for (const id of ids) {
        if (!doomed.has(id) && (await this.receivedAtMs('done', id)) < cutoff) doomed.add(id);
      }
    }
    for (const id of doomed) await fs.rm(path.join(this.dir, 'done', id), { recursive: true, force: true });
    if (doomed.size > 0) this.logger.info('pruned done entries', { count: doomed.size });
    return doomed.size;
  }

  async depth(): Promise<Record<SpoolState, number>> {
    const [incoming, processing, done, failed] = await Promise.all(STATES.map((s) => this.list(s)));
    return {
      incoming: incoming?.length ?? 0,
      processing: processing?.length ?? 0,
      done: done?.length ?? 0,
      failed: failed?.length ?? 0,
    };
  }

  /**
   * Streams the body into `handle`, hashing it; the caller writes the trailer, syncs and closes the file. A body
   * of at most HELD_BODY_BYTES is not written here but returned (`held`), for the caller to write with the
   * trailer.
   */
  private async receive(
    body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
    handle: FileHandle,
    maxBytes: number,
  ): Promise<{ size: number; sha256: string; held: Uint8Array[] | undefined }> {
    const hash = createHash('sha256');
    let size = 0;
    let sinceCheck = 0;
    let held: Uint8Array[] | undefined = [];
    try {
      for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
        size += bytes.byteLength;
        if (size > maxBytes) {
          throw new SpoolError('too_large', `The upload is larger than the limit of ${maxBytes} bytes.`);
        }
        hash.update(bytes);
        this.received += bytes.byteLength;
        if (held !== undefined) {
          // Chunks may be views of a buffer the stream reuses: held ones are copied.
          held.push(Buffer.from(bytes));
          if (size <= HELD_BODY_BYTES) continue;
          const toWrite = held;
          held = undefined;
          await this.io(() => writevAll(handle, toWrite));
        } else {
          await this.io(() => writevAll(handle, [bytes]));
        }
        sinceCheck += bytes.byteLength;
        if (sinceCheck >= SPACE_CHECK_INTERVAL) {
          sinceCheck = 0;
          await this.ensureSpace();
        }
      }
    } catch (error) {
      // Typed errors are verdicts on the content (too large, wrong format), not a broken stream.
      if (error instanceof InletError) throw error;
      throw new SpoolError('body_failed', `The upload stream failed: ${(error as Error).message}`, {
        cause: error,
      });
    }
    return { size, sha256: hash.digest('hex'), held };
  }

  /**
   * Refuses with `spool_full` when the volume is under `minFreeBytes`. A statfs per upload was a thread-pool
   * trip as costly as a write for a small file, so a reading is reused for up to SPACE_READING_MAX_AGE_MS,
   * less the bytes this spool has received since: only other writers on the volume go unseen, and for at
   * most that long. Within SPACE_CHECK_INTERVAL of the minimum every check reads afresh, so a refusal is
   * always made on a fresh reading, and accepting resumes as soon as space is freed.
   */
  private async ensureSpace(): Promise<void> {
    const reading = this.spaceReading;
    if (
      reading !== undefined &&
      Date.now() - reading.at <= SPACE_READING_MAX_AGE_MS &&
      reading.free - (this.received - reading.received) - this.minFreeBytes >= SPACE_CHECK_INTERVAL
    ) {
      return;
    }
    const free = await this.readFreeSpace();
    if (free < this.minFreeBytes) {
      this.logger.warn('spool volume low on space, refusing uploads', {
        free,
        minFreeBytes: this.minFreeBytes,
      });
      throw new SpoolError(
        'spool_full',
        `The spool volume has ${free} bytes free, below the minimum of ${this.minFreeBytes}; try again later.`,
      );
    }
  }

  /** One statfs at a time: uploads that need a reading while one is under way share it. */
  private readFreeSpace(): Promise<number> {
    this.spaceRead ??= (async () => {
      // Counted from before the reading: bytes written meanwhile may be subtracted twice, never missed.
      const received = this.received;
      try {
        const stats = await this.io(() => fs.statfs(this.dir));
        const free = stats.bavail * stats.bsize;
        this.spaceReading = { free, at: Date.now(), received };
        return free;
      } finally {
        this.spaceRead = undefined;
      }
    })();
    return this.spaceRead;
  }

  /** Turns file-system failures into SpoolErrors, with running out of space as its own code. */
  private async io<T>(op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (error) {
      if (error instanceof SpoolError) throw error;
      if (isNoSpace(error)) {
        throw new SpoolError('spool_full', 'The spool volume ran out of space; try again later.', {
          cause: error,
        });
      }
      throw new SpoolError('io_failed', `Spool I/O failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Atomic but not synced: only acceptance must survive a crash. A later move that a crash undoes brings
   * the entry back to `incoming/` or `processing/`, where it is resumed, and the engine's ledger answers
   * with the verdict already recorded under its id, so nothing is loaded twice.
   */
  private async move(id: string, from: SpoolState, to: SpoolState): Promise<void> {
    await fs.rename(path.join(this.dir, from, id), path.join(this.dir, to, id));
  }

  /** Entry ids in a state, oldest first; anything not named by us is ignored rather than trusted. */
  private async list(state: SpoolState): Promise<string[]> {
    const names = await fs.readdir(path.join(this.dir, state));
    return names.filter(isSpoolId).sort();
  }

  private async readEntry(state: SpoolState, id: string): Promise<SpoolEntry> {
    let read: Awaited<ReturnType<typeof readEntryAt>>;
    try {
      read = await readEntryAt(path.join(this.dir, state, id));
    } catch (error) {
      throw new SpoolError('bad_entry', `Spool entry ${id} has no readable sidecar.`, { cause: error });
    }
    return toEntry(id, read.dataPath, read.sidecar);
  }

  private async receivedAtMs(state: SpoolState, id: string): Promise<number> {
    try {
      return (await this.readEntry(state, id)).receivedAt.getTime();
    } catch {
      // The id starts with the time it was created, close enough for retention of a damaged entry.
      return spoolIdTime(id);
    }
  }
}

function checkId(id: string): void {
  if (!isSpoolId(id)) throw new SpoolError('bad_entry', `${JSON.stringify(id)} is not a spool entry id.`);
}

function toEntry(id: string, dataPath: string, sidecar: Sidecar, content?: Uint8Array): SpoolEntry {
  return Object.freeze({
    ...(content === undefined ? {} : { content }),
    id,
    name: sidecar.name,
    size: sidecar.size,
    sha256: sidecar.sha256,
    receivedAt: new Date(sidecar.receivedAt),
    path: dataPath,
    meta: Object.freeze({ ...sidecar.meta }),
  });
}
