/**
 * The plain-shape fast path of binary timestamps writes exactly what the general path (the ISO
 * reader, its range checks and writeTimestampBinary) writes, and declines everything it does not
 * handle, for the general path to decide (and to give its reason).
 */
import { describe, expect, it } from 'vitest';
import { writeTimestampBinary } from '../../../../src/engine/coerce/binary.js';
import { makePlainTimestampEncoder } from '../../../../src/engine/coerce/binary-timestamp-plain.js';
import { makeTimestampCoercer } from '../../../../src/engine/coerce/timestamp.js';
import { CopyTextBuffer } from '../../../../src/engine/copy-text.js';
import { seededRandom } from '../../../harness/seeded-random.js';

type Kind = 'timestamp' | 'timestamptz';

function general(kind: Kind, literal: string): string | undefined {
  const out = new CopyTextBuffer(8);
  const src = Buffer.from(literal);
  const coercer = makeTimestampCoercer(kind, { kind: 'iso' }, writeTimestampBinary);
  if (coercer(src, 0, src.length, out) !== undefined) return undefined;
  return out.buf.subarray(0, out.pos).toString('hex');
}

function plain(kind: Kind, literal: string): string | undefined {
  const out = new CopyTextBuffer(4);
  const src = Buffer.from(`9${literal}5`);
  return makePlainTimestampEncoder(kind === 'timestamptz')(src, 1, src.length - 1, out)
    ? out.buf.subarray(0, out.pos).toString('hex')
    : undefined;
}

/** A deterministic stream of timestamps around the plain shape, in and out of range. */
function* literals(count: number): Generator<string> {
  const random = seededRandom(5);
  const next = (n: number) => Math.floor(random() * n);
  const pad = (n: number, width: number) => String(n).padStart(width, '0');
  for (let i = 0; i < count; i++) {
    const year = [next(10_000), 1900 + next(200), 2000 + next(30), 1600 + next(800)][next(4)] as number;
    const month = next(8) === 0 ? next(14) : 1 + next(12);
    const day = next(4) === 0 ? 28 + next(4) : next(8) === 0 ? next(33) : 1 + next(28);
    const hour = next(10) === 0 ? 24 : next(24);
    const minute = next(10) === 0 ? 60 : next(60);
    const second = next(10) === 0 ? 60 : next(60);
    const separator = ['T', 'T', ' ', 't', 'x'][next(5)];
    const places = next(9);
    const fraction =
      places === 0 ? '' : places === 8 ? '.' : `.${pad(next(10 ** Math.min(places, 7)), places)}`;
    const suffix = ['', 'Z', 'Z', 'z', '+00:00', '-05:30'][next(6)];
    const space = next(20) === 0 ? ' ' : '';
    yield `${space}${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}${separator}${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fraction}${suffix}`;
  }
}

describe('timestamp plain literals in binary', () => {
  it.each<Kind>(['timestamp', 'timestamptz'])(
    '%s: writes what the general path writes, for every literal it takes',
    (kind) => {
      let taken = 0;
      for (const literal of literals(20_000)) {
        const fast = plain(kind, literal);
        if (fast === undefined) continue;
        taken++;
        expect([literal, fast]).toEqual([literal, general(kind, literal)]);
      }
      // Most of the plain-shaped ones take the fast path: the comparison above is not vacuous.
      expect(taken).toBeGreaterThan(kind === 'timestamp' ? 1000 : 2000);
    },
  );

  it.each([
    '2024-01-31T13:45:00',
    '2024-02-29 23:59:59.999999',
    '2000-01-01T00:00:00.5Z',
    '0001-01-01T00:00:00Z',
    '9999-12-31T23:59:59.123Z',
    '1970-01-01t00:00:00.000001',
    '1600-03-01T12:00:00',
  ])('%s', (literal) => {
    expect(plain('timestamptz', literal)).toBe(general('timestamptz', literal));
    expect(plain('timestamptz', literal)).toBeDefined();
  });

  it('writes 2000-01-01 as zero and counts microseconds from it', () => {
    expect(plain('timestamp', '2000-01-01T00:00:00')).toBe('0000000000000000');
    expect(plain('timestamptz', '2000-01-01T00:00:01.5Z')).toBe('000000000016e360');
  });

  it.each([
    '2024-01-31T13:45:00+00:00',
    '2024-01-31T13:45:00z',
    ' 2024-01-31T13:45:00',
    '2024-01-31T13:45:00 ',
    '2024-01-31T13:45',
    '2024-01-31',
    '2024-01-31T13:45:00.',
    '2024-01-31T13:45:00.1234567',
    '2023-02-29T00:00:00',
    '0000-01-01T00:00:00',
    '2024-01-31T24:00:00',
    '2024-01-31X13:45:00',
    '',
  ])('leaves %j to the general path', (literal) => {
    expect(plain('timestamptz', literal)).toBeUndefined();
  });

  it('leaves a Z on a timestamp without time zone to the general path, which refuses it', () => {
    expect(plain('timestamp', '2024-01-31T13:45:00Z')).toBeUndefined();
    expect(general('timestamp', '2024-01-31T13:45:00Z')).toBeUndefined();
  });
});
