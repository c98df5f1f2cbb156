/**
 * The random access the Parquet and XLSX readers are given (src/formats/random-access.ts), one behaviour
 * suite run against both of its modes: `ranged` (an uncompressed object whose source offers ranged reads)
 * and `spooled` (anything else, decompressed into a temporary file). Either way a reader gets exactly the
 * bytes it asks for, or a typed error that says the file is shorter than its own index says; never empty
 * or stale bytes past the end, which a reader would parse as data.
 */
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FormatError, SourceError } from '../../../src/errors.js';
import type { DecodedSource } from '../../../src/formats/decode.js';
import { openRandomAccess, type RandomAccessInput } from '../../../src/formats/random-access.js';
import type { ObjectSource } from '../../../src/model/ingestion.js';
import { seededBytes } from '../../harness/bad-inputs.js';
import { seededRandom } from '../../harness/seeded-random.js';

const SEED = 7411;
const OBJECT = seededBytes(300_000, SEED);

/** How the sequential pass was left: read to its end, or stopped early. */
interface Pass {
  drained: boolean;
  returned: boolean;
}

/** The object as a decoder hands it over: chunks of seeded sizes, recording how the pass ended. */
function chunked(bytes: Buffer, seed: number, pass: Pass): AsyncIterable<Buffer> {
  const random = seededRandom(seed);
  return (async function* () {
    try {
      for (let at = 0; at < bytes.length; ) {
        const size = 1 + Math.floor(random() * 40_000);
        yield bytes.subarray(at, at + size);
        at += size;
      }
      pass.drained = true;
    } finally {
      pass.returned = true;
    }
  })();
}

function source(bytes: Buffer, options: { ranged: boolean; size?: number }): ObjectSource {
  return {
    uri: 'file:///data/orders.parquet',
    name: 'orders.parquet',
    size: options.size ?? bytes.length,
    open: async () => Readable.from([bytes]),
    ...(options.ranged
      ? { openRange: async (start: number, end: number) => Readable.from([bytes.subarray(start, end)]) }
      : {}),
  };
}

const MODES = {
  ranged: (bytes: Buffer, pass: Pass) =>
    openRandomAccess(decoded(bytes, 'none', pass), source(bytes, { ranged: true })),
  // A compressed object is always spooled, ranges or not: its offsets are the decompressed bytes'.
  'spooled (compressed)': (bytes: Buffer, pass: Pass) =>
    openRandomAccess(decoded(bytes, 'gzip', pass), source(bytes, { ranged: true })),
  'spooled (no ranges)': (bytes: Buffer, pass: Pass) =>
    openRandomAccess(decoded(bytes, 'none', pass), source(bytes, { ranged: false })),
} as const;

function decoded(bytes: Buffer, compression: DecodedSource['compression'], pass: Pass): DecodedSource {
  return { compression, head: bytes.subarray(0, 4096), chunks: chunked(bytes, SEED, pass) };
}

async function all(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

async function refusal(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a refusal');
}

let temp: string;
let savedTmpdir: string | undefined;

beforeAll(async () => {
  temp = await mkdtemp(join(tmpdir(), 'inlet-random-access-test-'));
});
afterAll(async () => {
  await rm(temp, { recursive: true, force: true });
});
// Each test's spool goes into a folder of its own, so that what a mode leaves behind can be seen.
beforeEach(async (context) => {
  savedTmpdir = process.env.TMPDIR;
  const dir = join(temp, context.task.id);
  await mkdir(dir);
  process.env.TMPDIR = dir;
});
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

const leftInTmp = async () => readdir(process.env.TMPDIR as string);

describe.each(Object.entries(MODES))('random access, %s', (mode, openMode) => {
  let pass: Pass;
  let input: RandomAccessInput;
  beforeEach(async () => {
    pass = { drained: false, returned: false };
    input = await openMode(OBJECT, pass);
  });
  afterEach(async () => {
    await input.close();
  });

  it('says its mode and the size of the object', () => {
    expect(input.mode).toBe(mode === 'ranged' ? 'ranged' : 'spooled');
    expect(input.size).toBe(OBJECT.length);
  });

  it('reads any range, in any order: the index at the end first, as readers do', async () => {
    const random = seededRandom(SEED + 1);
    const ranges: [number, number][] = [[OBJECT.length - 8, OBJECT.length]];
    for (let i = 0; i < 40; i++) {
      const start = Math.floor(random() * OBJECT.length);
      ranges.push([start, Math.min(OBJECT.length, start + Math.floor(random() * 70_000))]);
    }
    for (const [start, end] of ranges)
      expect((await input.read(start, end)).equals(OBJECT.subarray(start, end)), `${start}-${end}`).toBe(
        true,
      );
    expect((await input.read(10, 10)).length).toBe(0);
  });

  it('streams the bulk in file order, and a part behind the pass again', async () => {
    const cuts = [0, 1_000, 120_000, 120_001, 250_000, OBJECT.length];
    for (let i = 1; i < cuts.length; i++) {
      const [start, end] = [cuts[i - 1] as number, cuts[i] as number];
      expect((await all(input.stream(start, end))).equals(OBJECT.subarray(start, end))).toBe(true);
    }
    // Behind the pass: read again (by range where the source has ranges).
    expect((await all(input.stream(5_000, 130_000))).equals(OBJECT.subarray(5_000, 130_000))).toBe(true);
    expect((await all(input.stream(7, 7))).length).toBe(0);
  });

  it('refuses a read or a stream past the end as a truncated file, naming where it ends', async () => {
    for (const [start, end] of [
      [OBJECT.length - 10, OBJECT.length + 1],
      [OBJECT.length + 100, OBJECT.length + 200],
      [0, 2 ** 50],
    ] as const) {
      for (const attempt of [() => input.read(start, end), () => all(input.stream(start, end))]) {
        const error = await refusal(attempt());
        expect(error).toBeInstanceOf(FormatError);
        expect(error).toMatchObject({ code: 'truncated_file' });
        expect(error.message).toContain(`ends at byte ${OBJECT.length}, before byte ${end}`);
      }
    }
  });

  it('finish() reads the whole object through (the content hash covers every byte) and leaves nothing', async () => {
    await input.read(OBJECT.length - 100, OBJECT.length);
    await input.finish();
    expect(pass.drained).toBe(true);
    expect(await leftInTmp()).toEqual([]);
  });

  it('close() part-way stops the pass and leaves nothing, and may be called again', async () => {
    await all(input.stream(0, 1_000));
    await input.close();
    await input.close();
    expect(pass.returned).toBe(true);
    expect(await leftInTmp()).toEqual([]);
  });
});

describe('random access, ranged: a source that does not keep its word', () => {
  /** The object read in order as usual, its ranges by `openRange`. */
  const rangedBy = (openRange: NonNullable<ObjectSource['openRange']>) =>
    openRandomAccess(decoded(OBJECT, 'none', { drained: false, returned: false }), {
      ...source(OBJECT, { ranged: true }),
      openRange,
    });

  it('refuses an object shorter than its declared size where the pass runs out', async () => {
    const pass = { drained: false, returned: false };
    const short = OBJECT.subarray(0, 200_000);
    const input = await openRandomAccess(
      decoded(short, 'none', pass),
      source(short, { ranged: true, size: OBJECT.length }),
    );
    const error = await refusal(all(input.stream(150_000, 250_000)));
    expect(error).toMatchObject({ code: 'truncated_file' });
    expect(error.message).toContain('ends at byte 200000, before byte 250000');
    await input.close();
  });

  it('refuses a range that comes back short', async () => {
    const input = await rangedBy(async (start, end) => Readable.from([OBJECT.subarray(start, end - 3)]));
    const error = await refusal(input.read(1_000, 2_000));
    expect(error).toMatchObject({ code: 'truncated_file' });
    expect(error.message).toContain('ends at byte 1997, before byte 2000');
    await input.close();
  });

  it('refuses a source that ignores the range, before handing on a byte of it', async () => {
    // As a server that answers a ranged GET with 200 and the whole object.
    const input = await rangedBy(async () => Readable.from([OBJECT]));
    await all(input.stream(0, 100_000));
    // Behind the pass: read by range.
    const handed: Buffer[] = [];
    const error = await refusal(
      (async () => {
        for await (const chunk of input.stream(10, 20)) handed.push(chunk);
      })(),
    );
    expect(handed).toEqual([]);
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ code: 'source_read_failed' });
    expect(error.message).toContain('the source ignored the range');
    await input.close();
  });

  it('says which bytes it was reading when the source fails', async () => {
    const input = await rangedBy(async () => {
      throw new Error('connection reset');
    });
    const error = await refusal(input.read(10, 20));
    expect(error).toMatchObject({ code: 'source_read_failed' });
    expect(error.message).toBe('Reading bytes 10-20 of file:///data/orders.parquet failed: connection reset');
    await input.close();
  });
});

describe('random access, spooled: the temporary folder', () => {
  it('a temporary folder that cannot be used is a catalogued error that says what to check', async () => {
    process.env.TMPDIR = join(temp, 'no such folder');
    const pass = { drained: false, returned: false };
    const error = await refusal(
      openRandomAccess(decoded(OBJECT, 'gzip', pass), source(OBJECT, { ranged: false })),
    );
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ code: 'spool_failed' });
    expect(error.message).toContain('TMPDIR');
  });

  it('a decoder that fails part-way leaves nothing behind', async () => {
    const failing = (async function* () {
      yield OBJECT.subarray(0, 1_000);
      throw new FormatError('corrupt_gzip', 'The gzip stream is damaged.');
    })();
    const error = await refusal(
      openRandomAccess(
        { compression: 'gzip', head: OBJECT.subarray(0, 1_000), chunks: failing },
        source(OBJECT, { ranged: false }),
      ),
    );
    expect(error).toMatchObject({ code: 'corrupt_gzip' });
    expect(await leftInTmp()).toEqual([]);
  });
});
