/**
 * Local files as ObjectSources for the CLI (and anything else that ingests from disk).
 */
import { isUtf8 } from 'node:buffer';
import { constants, type Dirent, type Stats } from 'node:fs';
import { access, open, readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ErrorCode } from '../error-codes/index.js';
import { SourceError } from '../errors.js';
import type { ObjectSource } from '../model/ingestion.js';

/** Large reads keep the parser busy with fewer, bigger chunks; 1 MiB measured well against the 64 KiB default. */
const READ_CHUNK_BYTES = 1 << 20;

/**
 * A file's path: text, or the raw bytes of an absolute path that is not valid UTF-8 (a Linux file name is
 * bytes; read as text, `é` in Latin-1 becomes U+FFFD and names no file).
 */
export type FilePath = string | Buffer;

export async function fileSource(path: FilePath): Promise<ObjectSource> {
  const absolute = typeof path === 'string' ? resolve(path) : path;
  const uri = typeof absolute === 'string' ? pathToFileURL(absolute).href : bytesFileUri(absolute);
  // Only for globs and messages: a byte path shows U+FFFD where its name is not UTF-8.
  const text = typeof absolute === 'string' ? absolute : absolute.toString('utf8');
  const shown = typeof path === 'string' ? path : uri;
  let stats: Stats;
  try {
    stats = await stat(absolute);
    if (stats.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    await access(absolute, constants.R_OK);
  } catch (error) {
    throw sourceError(shown, uri, error);
  }
  return {
    uri,
    // Relative to the working directory, as typed, so `match` globs like `data/*.csv` apply.
    name: relative(process.cwd(), text).split(sep).join('/'),
    size: stats.size,
    // Fixed width, so comparing the strings orders the versions.
    order: String(Math.trunc(stats.mtimeMs)).padStart(20, '0'),
    async open(): Promise<Readable> {
      // Opening first turns a file that vanished since stat into a rejected promise, not a stream error later.
      try {
        const handle = await open(absolute, 'r');
        return handle.createReadStream({ highWaterMark: READ_CHUNK_BYTES });
      } catch (error) {
        throw sourceError(shown, uri, error);
      }
    },
    async openRange(start: number, end: number): Promise<Readable> {
      // createReadStream's end is inclusive and cannot say "no bytes": an empty range opens nothing.
      if (end <= start) return Readable.from([], { objectMode: false });
      const handle = await open(absolute, 'r').catch((error: unknown) => {
        throw sourceError(shown, uri, error);
      });
      try {
        return handle.createReadStream({ start, end: end - 1, highWaterMark: READ_CHUNK_BYTES });
      } catch (error) {
        // A range Node refuses (negative, not whole): the handle would otherwise stay open until collected.
        await handle.close();
        throw sourceError(shown, uri, error);
      }
    },
  };
}

function sourceError(path: string, uri: string, error: unknown): SourceError {
  const code = (error as NodeJS.ErrnoException).code;
  const reason =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'it is a directory'
          : (error as Error).message;
  const errorCode: ErrorCode = code === 'ENOENT' ? 'source_not_found' : 'source_unreadable';
  return new SourceError(errorCode, `cannot read ${path}: ${reason}`, {
    cause: error,
    location: { source: uri },
  });
}

/**
 * The path of a `file://` URI: text, or its bytes when its percent-escapes are not UTF-8 (as
 * `bytesFileUri` writes the URI of such a file).
 */
export function filePathOf(uri: string): FilePath {
  try {
    return fileURLToPath(uri);
  } catch (error) {
    if (!(error instanceof URIError)) throw error;
    // decodeURIComponent refused: the escapes are bytes of a name that is not UTF-8.
    return Buffer.from(
      new URL(uri).pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) =>
        String.fromCharCode(Number.parseInt(hex, 16)),
      ),
      'latin1',
    );
  }
}

/** `file://` and the path's bytes, each but `/` and encodeURIComponent's unreserved set as `%XX`. */
function bytesFileUri(absolute: Buffer): string {
  let out = 'file://';
  for (const byte of absolute) {
    const char = String.fromCharCode(byte);
    out +=
      byte < 0x80 && /[A-Za-z0-9\-_.!~*'()/]/.test(char)
        ? char
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * Replaces each directory among `args` by the files under it, recursively, in name order and
 * without dotfiles (editor swap files, .DS_Store). Other arguments pass through unchanged, so a
 * missing file is reported by fileSource along with the rest of the results.
 * A file whose path is not valid UTF-8 comes back as its `file://` URI with the bytes percent-encoded,
 * which fileSource opens by those bytes.
 * Symbolic links to directories are not followed, which rules out cycles.
 */
export async function expandPaths(args: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const arg of args) {
    const stats = await stat(arg).catch(() => undefined);
    if (stats?.isDirectory()) {
      for (const path of await walk(Buffer.from(join(arg)))) {
        out.push(isUtf8(path) ? join(path.toString('utf8')) : bytesFileUri(toAbsolute(path)));
      }
    } else out.push(arg);
  }
  return out;
}

/** The files under `dir`, as bytes: a name that is not UTF-8 stays the name it is. */
async function walk(dir: Buffer): Promise<Buffer[]> {
  const entries = await readdir(dir, { withFileTypes: true, encoding: 'buffer' });
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  const files: Buffer[] = [];
  const prefix = dir.at(-1) === 0x2f ? dir : Buffer.concat([dir, Buffer.from(sep)]);
  for (const entry of entries) {
    if (entry.name[0] === 0x2e) continue;
    const path = Buffer.concat([prefix, entry.name]);
    if (entry.isDirectory()) files.push(...(await walk(path)));
    else if (await isFile(entry, path)) files.push(path);
  }
  return files;
}

function toAbsolute(path: Buffer): Buffer {
  return path[0] === 0x2f ? path : Buffer.concat([Buffer.from(process.cwd() + sep), path]);
}

async function isFile(entry: Dirent<Buffer>, path: Buffer): Promise<boolean> {
  if (entry.isFile()) return true;
  if (!entry.isSymbolicLink()) return false;
  const target = await stat(path).catch(() => undefined);
  return target?.isFile() ?? false;
}
