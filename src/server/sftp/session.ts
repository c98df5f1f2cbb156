/**
 * One signed-in user's SFTP subsystem: every request resolves its path in the user's virtual tree
 * (tree.ts) and is answered there. Writing `/inbound/<p>/<name>` streams into the spool through the
 * upload API's accept path and its CLOSE is answered OK only once the file is durable and queued; reading
 * `/outbound/<p>/…` reads the ledger. What is refused is answered with the SFTP status that fits and a log
 * line, and nothing is written: a path outside the tree (`..`, NUL) or a pipeline the user may not write
 * (PERMISSION_DENIED), a resume or an out-of-order write (OP_UNSUPPORTED), a file over the size limit, one
 * whose content is not the pipeline's format, or a full spool (FAILURE, with the upload API's code in the
 * message). A file written under a temporary name (`x.csv.filepart`, `x.tmp`) waits in staging until it is
 * renamed to its final name, which queues it (staged-uploads.ts); any other rename is refused (a file is
 * queued under the name it was written with, at CLOSE), and so are removes of received files (queued or
 * loaded; the ledger keeps them).
 */
import type pg from 'pg';
import ssh2, { type Attributes, type FileEntry, type SFTPWrapper } from 'ssh2';
import { InletError } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { Accepted } from '../accept.js';
import { InboundWrite, WriteRefused } from './inbound-write.js';
import {
  isFinal,
  latestIngestion,
  outboundNames,
  REJECTS_SUFFIX,
  RESULT_SUFFIX,
  receivedFiles,
  rejectsCsv,
  resultJson,
} from './ledger-files.js';
import { isTemporaryName, type StagedFile, StagedUploadError, StagedUploads } from './staged-uploads.js';
import { AREAS, isRefusal, type Place, type Refusal, resolvePath } from './tree.js';

const { STATUS_CODE, OPEN_MODE } = ssh2.utils.sftp;

export interface SessionContext {
  user: string;
  pipelines: readonly string[];
  address: string;
  pool: pg.Pool;
  logger: Logger;
  maxUploadBytes: number;
  /** Where files written under a temporary name wait for their rename (staged-uploads.ts). */
  stagingDir: string;
  /** Streams a file into the spool; resolves once it is durable and queued. */
  accept: (request: { pipeline: string; name: string; body: AsyncIterable<Uint8Array> }) => Promise<Accepted>;
  /** Called for every request: the idle timer starts again. */
  touch: () => void;
}

type Handle =
  | { kind: 'dir'; entries: FileEntry[]; listed: boolean }
  | { kind: 'read'; content: Buffer }
  | { kind: 'write'; pipeline: string; name: string; upload: InboundWrite<Accepted> }
  /** `append`: every write goes to the end, whatever its offset (SFTP's APPEND, as `reput` opens). */
  | { kind: 'staged'; staged: StagedFile; append: boolean };

const DIR_MODE = 0o040755;
const READ_ONLY_DIR_MODE = 0o040555;
const FILE_MODE = 0o100644;
const READ_ONLY_FILE_MODE = 0o100444;
/** Open handles per session at most: a client cannot hold the server's memory with unclosed ones. */
const MAX_HANDLES = 64;

/** Status and message to answer a request with when it is refused. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function serveSftp(sftp: SFTPWrapper, context: SessionContext): { closed: () => void } {
  const handles = new Map<string, Handle>();
  const staging = new StagedUploads(context.stagingDir, context.maxUploadBytes);
  let nextHandle = 0;
  const { logger } = context;
  const log = logger.child({ component: 'sftp', user: context.user, address: context.address });

  const answerRefusal = (op: string, reqId: number, path: string, error: Refused) => {
    log.warn('sftp request refused', { op, path, status: statusName(error.status), reason: error.message });
    sftp.status(reqId, error.status, error.message);
  };

  /** Runs a request; a Refused is answered with its status, anything else with FAILURE and logged. */
  const handle = (op: string, reqId: number, path: string, work: () => Promise<void> | void) => {
    context.touch();
    Promise.resolve()
      .then(work)
      .catch((error: unknown) => {
        if (error instanceof Refused) return answerRefusal(op, reqId, path, error);
        log.error('sftp request failed', { op, path, error });
        sftp.status(reqId, STATUS_CODE.FAILURE, 'the server could not answer this request; try again');
      });
  };

  const resolve = (raw: string): { place: Place; path: string } => {
    const resolved = resolvePath(raw, context.pipelines);
    if (isRefusal(resolved)) throw refusal(resolved);
    return resolved;
  };

  const newHandle = (value: Handle): Buffer => {
    if (handles.size >= MAX_HANDLES) {
      throw new Refused(STATUS_CODE.FAILURE, `too many open files (${MAX_HANDLES}); close some first`);
    }
    const id = Buffer.alloc(4);
    id.writeUInt32BE(nextHandle++ >>> 0);
    handles.set(id.toString('hex'), value);
    return id;
  };

  const handleOf = (id: Buffer): Handle => {
    const found = handles.get(id.toString('hex'));
    if (found === undefined) throw new Refused(STATUS_CODE.FAILURE, 'no such handle');
    return found;
  };

  /** Attributes of a place, or NO_SUCH_FILE. */
  const attributesOf = async (place: Place, path: string): Promise<Attributes> => {
    switch (place.kind) {
      case 'root':
      case 'area':
        return attrs(READ_ONLY_DIR_MODE, 0);
      case 'folder':
        return attrs(place.area === 'inbound' ? DIR_MODE : READ_ONLY_DIR_MODE, 0);
      case 'file': {
        if (place.area === 'outbound') {
          const content = await outboundContent(place.pipeline, place.name, path);
          return attrs(READ_ONLY_FILE_MODE, content.length);
        }
        const staged = staging.get(place.pipeline, place.name);
        if (staged !== undefined) return attrs(FILE_MODE, staged.size, staged.modifiedAt);
        const row = await latestIngestion(context.pool, context.user, place.pipeline, place.name);
        if (row === undefined) throw new Refused(STATUS_CODE.NO_SUCH_FILE, `${path}: no such file`);
        return attrs(READ_ONLY_FILE_MODE, Number(row.bytes ?? 0), row.received_at ?? undefined);
      }
    }
  };

  const outboundContent = async (pipeline: string, file: string, path: string): Promise<Buffer> => {
    const missing = () =>
      new Refused(
        STATUS_CODE.NO_SUCH_FILE,
        `${path}: no such file (results appear as <name>${RESULT_SUFFIX} once a file is loaded)`,
      );
    const suffix = file.endsWith(RESULT_SUFFIX)
      ? RESULT_SUFFIX
      : file.endsWith(REJECTS_SUFFIX)
        ? REJECTS_SUFFIX
        : '';
    if (suffix === '') throw missing();
    const row = await latestIngestion(context.pool, context.user, pipeline, file.slice(0, -suffix.length));
    if (row === undefined || !isFinal(row)) throw missing();
    if (suffix === RESULT_SUFFIX) return resultJson(row);
    if (Number(row.rows_rejected) === 0) throw missing();
    return rejectsCsv(context.pool, row);
  };

  const listing = async (place: Place): Promise<FileEntry[]> => {
    const now = new Date();
    switch (place.kind) {
      case 'root':
        return AREAS.map((area) => entry(area, attrs(READ_ONLY_DIR_MODE, 0, now)));
      case 'area':
        return context.pipelines.map((pipeline) =>
          entry(pipeline, attrs(place.area === 'inbound' ? DIR_MODE : READ_ONLY_DIR_MODE, 0, now)),
        );
      case 'folder': {
        const files = await receivedFiles(context.pool, context.user, place.pipeline);
        if (place.area === 'inbound') {
          return [
            ...staging
              .list(place.pipeline)
              .map((staged) => entry(staged.name, attrs(FILE_MODE, staged.size, staged.modifiedAt))),
            ...files.map((file) => entry(file.name, attrs(READ_ONLY_FILE_MODE, file.bytes, file.receivedAt))),
          ];
        }
        const entries: FileEntry[] = [];
        for (const file of files) {
          for (const name of outboundNames(file)) {
            const content = name.endsWith(RESULT_SUFFIX)
              ? resultJson(file.row)
              : await rejectsCsv(context.pool, file.row);
            entries.push(
              entry(name, attrs(READ_ONLY_FILE_MODE, content.length, file.row.finished_at ?? now)),
            );
          }
        }
        return entries;
      }
      case 'file':
        throw new Refused(STATUS_CODE.FAILURE, 'not a folder');
    }
  };

  sftp.on('REALPATH', (reqId, raw) =>
    handle('realpath', reqId, raw, () => {
      const { path } = resolve(raw);
      sftp.name(reqId, [{ filename: path, longname: path, attrs: attrs(DIR_MODE, 0) }]);
    }),
  );

  const stat = (op: string) => (reqId: number, raw: string) =>
    handle(op, reqId, raw, async () => {
      const { place, path } = resolve(raw);
      sftp.attrs(reqId, await attributesOf(place, path));
    });
  sftp.on('STAT', stat('stat'));
  sftp.on('LSTAT', stat('lstat'));

  sftp.on('OPENDIR', (reqId, raw) =>
    handle('opendir', reqId, raw, async () => {
      const { place, path } = resolve(raw);
      if (place.kind === 'file') {
        await attributesOf(place, path);
        throw new Refused(STATUS_CODE.FAILURE, `${path} is a file, not a folder`);
      }
      sftp.handle(reqId, newHandle({ kind: 'dir', entries: await listing(place), listed: false }));
    }),
  );

  sftp.on('READDIR', (reqId, id) =>
    handle('readdir', reqId, '', () => {
      const dir = handleOf(id);
      if (dir.kind !== 'dir') throw new Refused(STATUS_CODE.FAILURE, 'not a folder handle');
      if (dir.listed) return sftp.status(reqId, STATUS_CODE.EOF);
      dir.listed = true;
      sftp.name(reqId, dir.entries);
    }),
  );

  sftp.on('OPEN', (reqId, raw, flags) =>
    handle('open', reqId, raw, async () => {
      const { place, path } = resolve(raw);
      const writing = (flags & (OPEN_MODE.WRITE | OPEN_MODE.APPEND)) !== 0;
      if (place.kind !== 'file') throw new Refused(STATUS_CODE.FAILURE, `${path} is a folder`);
      if (!writing) {
        if (place.area === 'inbound') {
          throw new Refused(
            STATUS_CODE.PERMISSION_DENIED,
            `${path}: received files cannot be read back; their results are in /outbound/${place.pipeline}/`,
          );
        }
        const content = await outboundContent(place.pipeline, place.name, path);
        sftp.handle(reqId, newHandle({ kind: 'read', content }));
        return;
      }
      if (place.area === 'outbound') {
        throw new Refused(
          STATUS_CODE.PERMISSION_DENIED,
          `${path}: /outbound is read-only; write into /inbound/${place.pipeline}/`,
        );
      }
      if (isTemporaryName(place.name)) {
        const existing = staging.get(place.pipeline, place.name);
        // A resume (reput) of a staged file opens it without truncating; anything else starts it again.
        const staged =
          existing !== undefined && (flags & OPEN_MODE.TRUNC) === 0 && existing.handle === undefined
            ? await staging.resume(existing)
            : await staging.open(place.pipeline, place.name).catch((error: unknown) => {
                if (error instanceof StagedUploadError)
                  throw new Refused(STATUS_CODE.FAILURE, `${path}: ${error.message}`);
                throw error;
              });
        const append = (flags & OPEN_MODE.APPEND) !== 0;
        sftp.handle(reqId, newHandle({ kind: 'staged', staged, append }));
        log.info('sftp upload started under a temporary name', { path });
        return;
      }
      if ((flags & OPEN_MODE.APPEND) !== 0 || (flags & OPEN_MODE.READ) !== 0) {
        throw new Refused(
          STATUS_CODE.OP_UNSUPPORTED,
          `${path}: appending, resuming (reput) and read-write opens are not supported; put the whole file again`,
        );
      }
      const { pipeline, name } = place;
      const upload = new InboundWrite<Accepted>(
        (body) => context.accept({ pipeline, name, body }),
        context.maxUploadBytes,
      );
      sftp.handle(reqId, newHandle({ kind: 'write', pipeline, name, upload }));
      log.info('sftp upload started', { path });
    }),
  );

  sftp.on('WRITE', (reqId, id, offset, data) =>
    handle('write', reqId, '', async () => {
      const file = handleOf(id);
      if (file.kind === 'staged') {
        try {
          await staging.write(file.staged, file.append ? file.staged.size : offset, data);
        } catch (error) {
          if (!(error instanceof StagedUploadError)) throw error;
          await staging.drop(file.staged);
          throw new Refused(
            STATUS_CODE.FAILURE,
            `/inbound/${file.staged.pipeline}/${file.staged.name}: ${error.message}`,
          );
        }
        return sftp.status(reqId, STATUS_CODE.OK);
      }
      if (file.kind !== 'write')
        throw new Refused(STATUS_CODE.PERMISSION_DENIED, 'this file is open for reading only');
      try {
        await file.upload.write(offset, data);
      } catch (error) {
        throw uploadRefusal(error, `/inbound/${file.pipeline}/${file.name}`);
      }
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('READ', (reqId, id, offset, length) =>
    handle('read', reqId, '', () => {
      const file = handleOf(id);
      if (file.kind !== 'read')
        throw new Refused(STATUS_CODE.PERMISSION_DENIED, 'this file is open for writing only');
      if (offset >= file.content.length) return sftp.status(reqId, STATUS_CODE.EOF);
      sftp.data(reqId, file.content.subarray(offset, offset + length));
    }),
  );

  sftp.on('FSTAT', (reqId, id) =>
    handle('fstat', reqId, '', () => {
      const file = handleOf(id);
      if (file.kind === 'dir') return sftp.attrs(reqId, attrs(READ_ONLY_DIR_MODE, 0));
      if (file.kind === 'staged') return sftp.attrs(reqId, attrs(FILE_MODE, file.staged.size));
      const size = file.kind === 'read' ? file.content.length : file.upload.size;
      sftp.attrs(reqId, attrs(file.kind === 'read' ? READ_ONLY_FILE_MODE : FILE_MODE, size));
    }),
  );

  sftp.on('CLOSE', (reqId, id) =>
    handle('close', reqId, '', async () => {
      const file = handleOf(id);
      handles.delete(id.toString('hex'));
      if (file.kind === 'staged') {
        await staging.close(file.staged);
        log.info('sftp upload staged until its rename', {
          path: `/inbound/${file.staged.pipeline}/${file.staged.name}`,
          bytes: file.staged.size,
        });
        return sftp.status(reqId, STATUS_CODE.OK);
      }
      if (file.kind !== 'write') return sftp.status(reqId, STATUS_CODE.OK);
      const path = `/inbound/${file.pipeline}/${file.name}`;
      let accepted: Accepted;
      try {
        accepted = await file.upload.close();
      } catch (error) {
        throw uploadRefusal(error, path);
      }
      log.info('sftp upload queued', { path, ingestionId: accepted.ingestionId, bytes: accepted.bytes });
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  // Times and modes a client sets on a file it writes (`put -p`) are accepted and ignored: the ledger keeps
  // when the file arrived.
  sftp.on('FSETSTAT', (reqId, id) =>
    handle('fsetstat', reqId, '', () => {
      const file = handleOf(id);
      if (file.kind !== 'write' && file.kind !== 'staged')
        throw new Refused(STATUS_CODE.PERMISSION_DENIED, 'only a file being written takes attributes');
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  sftp.on('SETSTAT', (reqId, raw) =>
    handle('setstat', reqId, raw, async () => {
      const { place, path } = resolve(raw);
      if (place.kind !== 'file' || place.area !== 'inbound') {
        throw new Refused(STATUS_CODE.PERMISSION_DENIED, `${path}: attributes cannot be changed here`);
      }
      await attributesOf(place, path);
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );

  sftp.on('REMOVE', (reqId, raw) =>
    handle('remove', reqId, raw, async () => {
      const { place, path } = resolve(raw);
      if (
        place.kind === 'file' &&
        place.area === 'inbound' &&
        (await staging.remove(place.pipeline, place.name))
      ) {
        log.info('sftp staged upload removed', { path });
        return sftp.status(reqId, STATUS_CODE.OK);
      }
      if (place.kind === 'file') await attributesOf(place, path);
      throw new Refused(
        STATUS_CODE.PERMISSION_DENIED,
        place.kind === 'file' && place.area === 'inbound'
          ? `${path}: a received file cannot be removed: it is queued or loaded, and the ledger keeps it`
          : `${path}: nothing can be removed here`,
      );
    }),
  );
  sftp.on('RENAME', (reqId, from, to) =>
    handle('rename', reqId, `${from} -> ${to}`, async () => {
      const source = resolve(from);
      const target = resolve(to);
      const staged =
        source.place.kind === 'file' && source.place.area === 'inbound'
          ? staging.get(source.place.pipeline, source.place.name)
          : undefined;
      if (staged === undefined) {
        throw new Refused(
          STATUS_CODE.PERMISSION_DENIED,
          'only a file written under a temporary name (such as x.csv.filepart or x.tmp) can be renamed: any other is queued under the name it was written with when it is closed',
        );
      }
      if (target.place.kind !== 'file' || target.place.area !== 'inbound') {
        throw new Refused(
          STATUS_CODE.PERMISSION_DENIED,
          `${target.path}: rename it within /inbound/${staged.pipeline}/`,
        );
      }
      if (target.place.pipeline !== staged.pipeline) {
        throw new Refused(
          STATUS_CODE.PERMISSION_DENIED,
          `${target.path}: a file written into /inbound/${staged.pipeline}/ is renamed within that folder`,
        );
      }
      const { pipeline, name } = target.place;
      if (isTemporaryName(name)) {
        staging.move(staged, pipeline, name);
        return sftp.status(reqId, STATUS_CODE.OK);
      }
      let accepted: Accepted;
      try {
        accepted = await staging.publish(staged, (body) => context.accept({ pipeline, name, body }));
      } catch (error) {
        if (error instanceof StagedUploadError) throw new Refused(STATUS_CODE.FAILURE, error.message);
        throw uploadRefusal(error, target.path);
      }
      log.info('sftp upload queued', {
        path: target.path,
        from: source.path,
        ingestionId: accepted.ingestionId,
        bytes: accepted.bytes,
      });
      sftp.status(reqId, STATUS_CODE.OK);
    }),
  );
  for (const op of ['MKDIR', 'RMDIR'] as const) {
    sftp.on(op, (reqId: number, raw: string) =>
      handle(op.toLowerCase(), reqId, raw, () => {
        const { path } = resolve(raw);
        throw new Refused(
          STATUS_CODE.PERMISSION_DENIED,
          `${path}: folders cannot be made or removed; the tree is fixed`,
        );
      }),
    );
  }
  sftp.on('READLINK', (reqId, raw) =>
    handle('readlink', reqId, raw, () => {
      const { path } = resolve(raw);
      throw new Refused(STATUS_CODE.NO_SUCH_FILE, `${path}: there are no links`);
    }),
  );
  sftp.on('SYMLINK', (reqId, target, link) =>
    handle('symlink', reqId, `${link} -> ${target}`, () => {
      throw new Refused(STATUS_CODE.PERMISSION_DENIED, 'links cannot be made');
    }),
  );
  sftp.on('EXTENDED', (reqId, name) =>
    handle('extended', reqId, name, () => {
      throw new Refused(STATUS_CODE.OP_UNSUPPORTED, `the extension ${name} is not supported`);
    }),
  );

  return {
    /** The channel or connection ended: files still being written are dropped, and nothing of them queued. */
    closed: () => {
      for (const [id, open] of handles) {
        if (open.kind === 'write') {
          open.upload.abort(new Error('the connection ended before the file was closed'));
          log.warn('sftp upload abandoned', {
            path: `/inbound/${open.pipeline}/${open.name}`,
            bytes: open.upload.size,
          });
        }
        handles.delete(id);
      }
      staging.discardAll().catch((error: unknown) => log.warn('sftp staged uploads not deleted', { error }));
    },
  };
}

function refusal(refused: Refusal): Refused {
  const status = refused.refused === 'missing' ? STATUS_CODE.NO_SUCH_FILE : STATUS_CODE.PERMISSION_DENIED;
  return new Refused(status, refused.message);
}

/** A file the accept path or the write refused: its code and message, as the upload API words them. */
function uploadRefusal(error: unknown, path: string): Refused {
  if (error instanceof WriteRefused) {
    return new Refused(
      error.kind === 'unsupported' ? STATUS_CODE.OP_UNSUPPORTED : STATUS_CODE.FAILURE,
      `${path}: ${error.message}`,
    );
  }
  if (error instanceof InletError) {
    return new Refused(STATUS_CODE.FAILURE, `${path}: ${error.code}: ${error.message} Nothing was kept.`);
  }
  throw error;
}

function attrs(mode: number, size: number, at: Date = new Date()): Attributes {
  const seconds = Math.floor(at.getTime() / 1000);
  return { mode, uid: 0, gid: 0, size, atime: seconds, mtime: seconds };
}

function entry(name: string, attributes: Attributes): FileEntry {
  const type = (attributes.mode & 0o040000) !== 0 ? 'd' : '-';
  const perms = (attributes.mode & 0o200) !== 0 ? 'rwxr-xr-x' : 'r--r--r--';
  const when = new Date(attributes.mtime * 1000).toISOString().slice(0, 16).replace('T', ' ');
  return {
    filename: name,
    longname: `${type}${perms} 1 inlet inlet ${String(attributes.size).padStart(10)} ${when} ${name}`,
    attrs: attributes,
  };
}

function statusName(code: number): string {
  return Object.entries(STATUS_CODE).find(([, value]) => value === code)?.[0] ?? String(code);
}
