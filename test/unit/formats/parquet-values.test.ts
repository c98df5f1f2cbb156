import { describe, expect, it } from 'vitest';
import { dateText } from '../../../src/formats/civil-date.js';
import { epochText, exactEpochText } from '../../../src/formats/parquet/values.js';
import { seededRandom } from '../../harness/seeded-random.js';

describe('Parquet temporal values as text', () => {
  it('writes every day of 0001–9999 as Date does', () => {
    for (let days = -719_162; days <= 2_932_896; days += 97) {
      const iso = new Date(days * 86_400_000).toISOString();
      expect(dateText(days)).toBe(iso.slice(0, iso.indexOf('T')));
    }
    expect(dateText(0)).toBe('1970-01-01');
    expect(dateText(-1)).toBe('1969-12-31');
    expect(dateText(11_016)).toBe('2000-02-29');
  });

  it('leaves days outside 0001–9999 in a form the coercers refuse', () => {
    expect(dateText(-719_163)).toBe('0000-12-31');
    expect(dateText(2_932_897)).toBe('+010000-01-01');
    expect(dateText(2_147_483_647)).toBe('2147483647 days since 1970-01-01');
  });

  it('agrees with the exact bigint arithmetic for instants in every unit, whole seconds and near them', () => {
    const next = seededRandom(7);
    for (const [unit, perSecond] of [
      ['MILLIS', 1_000n],
      ['MICROS', 1_000_000n],
      ['NANOS', 1_000_000_000n],
    ] as const) {
      // Nanosecond counts fit in 2^53 only within about 104 days of 1970; beyond that the exact path is used.
      const span = unit === 'NANOS' ? 9_000_000_000_000_000 : 250_000_000_000 * Number(perSecond);
      for (let i = 0; i < 5_000; i++) {
        const count = BigInt(Math.round((next() * 2 - 1) * span));
        for (const value of [count, count - (count % perSecond), count - (count % perSecond) - 1n]) {
          expect(epochText(value, unit)).toBe(exactEpochText(value, unit));
        }
      }
      const huge = 9_223_372_036_854_775_807n / (unit === 'NANOS' ? 1n : 1_000n);
      expect(epochText(-huge, unit)).toBe(exactEpochText(-huge, unit));
    }
  });

  it('writes an instant past what a date can show as its count, for the coercer to refuse', () => {
    expect(epochText(9_223_372_036_854_775_807n, 'MICROS')).toBe(
      '9223372036854775807 micros since 1970-01-01',
    );
    expect(epochText(-9_223_372_036_854_775_808n, 'MILLIS')).toBe(
      '-9223372036854775808 millis since 1970-01-01',
    );
  });

  it('keeps years outside 0001–9999 in a form the coercers refuse', () => {
    for (const unit of ['MILLIS', 'MICROS'] as const) {
      expect(epochText(-62_135_596_801n * (unit === 'MILLIS' ? 1_000n : 1_000_000n), unit)).toBe(
        '0000-12-31T23:59:59',
      );
    }
  });

  it('keeps every digit of the fraction', () => {
    expect(epochText(1_700_000_000_123_456n, 'MICROS')).toBe('2023-11-14T22:13:20.123456');
    expect(epochText(1_700_000_000_000_000n, 'MICROS')).toBe('2023-11-14T22:13:20');
    expect(epochText(-1n, 'NANOS')).toBe('1969-12-31T23:59:59.999999999');
    expect(epochText(1_700_000_000_000_000_001n, 'NANOS')).toBe('2023-11-14T22:13:20.000000001');
  });
});
