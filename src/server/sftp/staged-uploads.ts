/**
 * Uploads under a temporary name, renamed once complete: what WinSCP does by default for files over 100 KB
 * (`name.filepart`), and what many partners' scripts do (`put x.tmp`, `rename x.tmp x`) so that a reader
 * never sees half a file. A file written under such a name is not queued at CLOSE (it is not the file yet);
 * its bytes wait in a staging folder of the spool until the RENAME to its final name, which streams them
 * through the accept path under that name and is answered OK only once the file is durable and queued,
 * as a direct put's CLOSE is. A staged file the session does not rename (the client went away, or removed
 * it) is deleted: nothing was acknowledged for it. Staged files live as long as the session that wrote
 * them, and the staging folder is emptied when the door starts.
 */
import { randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, rm, unlink } from 'node:fs/promises';
import path from 'node:path';

/** Names clients give a file while it is being written: `.filepart` (WinSCP), `.part`, `.tmp`, dot files… */
const TEMPORARY_NAME = /^\.|\.(filepart|part|partial|tmp|temp|upload|uploading)$/i;

export function isTemporaryName(name: string): boolean {
  return TEMPORARY_NAME.test(name);
}

/** The staging folder inside a spool, emptied (or made) when the SFTP door starts. */
export async function resetStagingDir(spoolDir: string): Promise<string> {
  const dir = path.join(spoolDir, 'sftp-staging');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  return dir;
}

export interface StagedFile {
  pipeline: string;
  name: string;
  readonly file: string;
  size: number;
  modifiedAt: Date;
  /** Open while the client writes it. */
  handle: FileHandle | undefined;
}

export class StagedUploadError extends Error {}

/** Files one session may hold under temporary names at once: a client cannot fill the disk with them. */
export const MAX_STAGED_FILES = 32;

/** One session's files under temporary names, by `<pipeline>/<name>`. */
export class StagedUploads {
  private readonly files = new Map<string, StagedFile>();

  constructor(
    private readonly dir: string,
    private readonly maxBytes: number,
  ) {}

  get(pipeline: string, name: string): StagedFile | undefined {
    return this.files.get(key(pipeline, name));
  }

  /** Files of a pipeline's folder, for its listing. */
  list(pipeline: string): StagedFile[] {
    return [...this.files.values()].filter((file) => file.pipeline === pipeline);
  }

  /** A new (or emptied) staged file, open for writing. */
  async open(pipeline: string, name: string): Promise<StagedFile> {
    await this.remove(pipeline, name);
    if (this.files.size >= MAX_STAGED_FILES) {
      throw new StagedUploadError(
        `${MAX_STAGED_FILES} files are already waiting under temporary names in this session; rename or remove some first`,
      );
    }
    const file = path.join(this.dir, randomUUID());
    const staged: StagedFile = {
      pipeline,
      name,
      file,
      size: 0,
      modifiedAt: new Date(),
      handle: await open(file, 'wx', 0o600),
    };
    this.files.set(key(pipeline, name), staged);
    return staged;
  }

  /** A closed staged file opened again, as it is, to write more of it (a resumed put). */
  async resume(staged: StagedFile): Promise<StagedFile> {
    staged.handle = await open(staged.file, 'r+');
    return staged;
  }

  /** Writes at any offset within the size limit (a staged file may be resumed, unlike a direct put). */
  async write(staged: StagedFile, offset: number, data: Buffer): Promise<void> {
    if (staged.handle === undefined) throw new StagedUploadError('the file is closed');
    if (offset + data.length > this.maxBytes) {
      throw new StagedUploadError(
        `too_large: the file is over the limit of ${this.maxBytes} bytes (INLET_MAX_UPLOAD_BYTES); split it or compress it`,
      );
    }
    // The size moves before the write is awaited: an appending client's next WRITE, which may already be
    // waiting, lands after this one.
    staged.size = Math.max(staged.size, offset + data.length);
    staged.modifiedAt = new Date();
    const handle = staged.handle;
    for (let written = 0; written < data.length; ) {
      const { bytesWritten } = await handle.write(data, written, data.length - written, offset + written);
      written += bytesWritten;
    }
  }

  async close(staged: StagedFile): Promise<void> {
    const handle = staged.handle;
    staged.handle = undefined;
    await handle?.close();
  }

  /** A temporary name given another temporary name: the bytes stay staged. */
  move(from: StagedFile, pipeline: string, name: string): void {
    this.files.delete(key(from.pipeline, from.name));
    const existing = this.files.get(key(pipeline, name));
    if (existing !== undefined && existing !== from) void this.discard(existing);
    from.pipeline = pipeline;
    from.name = name;
    this.files.set(key(pipeline, name), from);
  }

  /**
   * Hands the staged bytes to `accept` (the spool, under the final name) and deletes them whatever it
   * answers: accepted, they are in the spool; refused, the client is told why and must put them again.
   */
  async publish<T>(staged: StagedFile, accept: (body: AsyncIterable<Uint8Array>) => Promise<T>): Promise<T> {
    if (staged.handle !== undefined) {
      throw new StagedUploadError(`${staged.name} is still open for writing; close it before renaming it`);
    }
    this.files.delete(key(staged.pipeline, staged.name));
    // Opened before the stream is made, so a body `accept` never reads cannot fail later on a deleted file.
    const handle = await open(staged.file, 'r');
    try {
      return await accept(handle.createReadStream({ autoClose: false }));
    } finally {
      await handle.close().catch(() => undefined);
      await unlink(staged.file).catch(() => undefined);
    }
  }

  async remove(pipeline: string, name: string): Promise<boolean> {
    const staged = this.files.get(key(pipeline, name));
    if (staged === undefined) return false;
    await this.drop(staged);
    return true;
  }

  /**
   * Deletes this staged file; its name is forgotten only if it still names this file (an open of the same
   * name since has a file of its own, which stays).
   */
  async drop(staged: StagedFile): Promise<void> {
    const at = key(staged.pipeline, staged.name);
    if (this.files.get(at) === staged) this.files.delete(at);
    await this.discard(staged);
  }

  /** The session ended: every staged file goes. */
  async discardAll(): Promise<void> {
    const all = [...this.files.values()];
    this.files.clear();
    await Promise.all(all.map((staged) => this.discard(staged)));
  }

  private async discard(staged: StagedFile): Promise<void> {
    const handle = staged.handle;
    staged.handle = undefined;
    await handle?.close().catch(() => undefined);
    await unlink(staged.file).catch(() => undefined);
  }
}

function key(pipeline: string, name: string): string {
  return `${pipeline}/${name}`;
}
