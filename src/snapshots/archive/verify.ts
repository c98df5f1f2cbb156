/**
 * `verify`: reads everything a restore would, and checks it without writing anything:
 * - the summary and the manifest open under the key (authentic), and the manifest is the one the summary
 *   names (its SHA-256);
 * - every chunk of every file exists, opens under the key with its own name as associated data
 *   (authentic, and in its right place), and its plaintext's HMAC is its name (intact);
 * - every file's chunks add up to its recorded size and SHA-256.
 * Every problem is collected, so one run names every damaged chunk and the files that use it.
 */
import { createHash } from 'node:crypto';
import { SnapshotError } from '../errors.js';
import type { VerifyReport } from '../provider.js';
import { checksMatch, chunkName } from './crypto.js';
import type { ManifestFile } from './manifest.js';
import type { Repository } from './repository.js';

/** How many chunks are fetched ahead of the one being checked or written. */
export const READ_AHEAD = 8;
const PROBLEMS_SHOWN = 20;

export interface FetchedChunk {
  readonly file: ManifestFile;
  readonly index: number;
  readonly name: string;
  readonly data?: Buffer;
  readonly error?: unknown;
}

/**
 * Every chunk of `files`, in order, fetched up to `window` ahead across file boundaries (a spool is mostly
 * small one-chunk files, so a window per file would fetch one at a time). Failures are yielded, not thrown.
 */
export async function* fetchChunks(
  repo: Repository,
  files: readonly ManifestFile[],
  window: number = READ_AHEAD,
): AsyncGenerator<FetchedChunk> {
  const wanted = (function* () {
    for (const file of files) for (let index = 0; index < file.chunks.length; index++) yield { file, index };
  })();
  const queue: Promise<FetchedChunk>[] = [];
  const fetchNext = (): boolean => {
    const next = wanted.next();
    if (next.done) return false;
    const { file, index } = next.value;
    const name = file.chunks[index] as string;
    queue.push(
      repo.getChunk(name, file.path).then(
        (data) => ({ file, index, name, data }),
        (error: unknown) => ({ file, index, name, error }),
      ),
    );
    return true;
  };
  while (queue.length < window && fetchNext()) {}
  for (let head = queue.shift(); head !== undefined; head = queue.shift()) {
    fetchNext();
    yield await head;
  }
}

export async function verifyArchiveSnapshot(repo: Repository, id: string): Promise<VerifyReport> {
  const summary = await repo.summary(id);
  const manifest = await repo.manifest(summary);
  const problems: string[] = [];
  const checked = new Set<string>();
  let hash = createHash('sha256');
  let size = 0;
  let intact = true;
  for await (const fetched of fetchChunks(repo, manifest.files)) {
    const { file, index, name } = fetched;
    if (index === 0) {
      hash = createHash('sha256');
      size = 0;
      intact = true;
    }
    if (fetched.data === undefined) {
      // A finding about the snapshot is collected; the store failing (unreachable, denied) ends the run.
      if (!(fetched.error instanceof SnapshotError)) throw fetched.error;
      intact = false;
      problems.push(fetched.error.message);
    } else if (!checksMatch(chunkName(repo.keys, fetched.data), name)) {
      intact = false;
      problems.push(`chunk ${name} (of ${file.path}) does not hold the content its name promises.`);
    } else {
      checked.add(name);
      hash.update(fetched.data);
      size += fetched.data.length;
    }
    if (index === file.chunks.length - 1 && intact) {
      const digest = hash.digest('hex');
      if (size !== file.size || digest !== file.sha256) {
        problems.push(
          `${file.path}: its chunks make ${size} bytes with SHA-256 ${digest}, not the ${file.size} bytes recorded.`,
        );
      }
    }
  }
  // Empty and inlined files have no chunks, so nothing above looked at them.
  for (const file of manifest.files) {
    if (file.chunks.length > 0) continue;
    const bytes = inlineBytes(file);
    const digest = bytes.length === 0 ? EMPTY_SHA256 : createHash('sha256').update(bytes).digest('hex');
    if (bytes.length !== file.size || digest !== file.sha256) {
      problems.push(
        `${file.path}: its ${file.inline === undefined ? 'missing chunks' : 'inline bytes'} do not match the ${file.size} bytes recorded.`,
      );
    }
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => `  - ${p}`);
    const more = problems.length > PROBLEMS_SHOWN ? [`  … and ${problems.length - PROBLEMS_SHOWN} more`] : [];
    throw new SnapshotError(
      'verify_failed',
      [
        `snapshot ${id} in ${repo.uri} failed verification (${problems.length} problem${problems.length === 1 ? '' : 's'}):`,
        ...shown,
        ...more,
      ].join('\n'),
    );
  }
  return {
    id,
    files: manifest.files.length,
    bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
    chunks: checked.size,
  };
}

export const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** The bytes of a file without chunks: inlined in the manifest, or none. */
export function inlineBytes(file: ManifestFile): Buffer {
  return file.inline === undefined ? Buffer.alloc(0) : Buffer.from(file.inline, 'base64');
}
