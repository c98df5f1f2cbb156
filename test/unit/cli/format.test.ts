import { describe, expect, it } from 'vitest';
import { formatCount } from '../../../src/cli/format.js';

describe('formatCount', () => {
  it('groups whole numbers by thousands exactly as toLocaleString("en-US") does', () => {
    const samples = [0, 7, 999, 1000, 1001, 12_345, 999_999, 1_000_000, 123_456_789, -1, -1000, -9_876_543];
    for (const n of [...samples, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    }
  });

  it('leaves fractions and non-finite values to toLocaleString', () => {
    for (const n of [1234.5, 0.25, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
    }
  });
});
