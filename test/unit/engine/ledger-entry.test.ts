import { describe, expect, it } from 'vitest';
import { compareOrder } from '../../../src/engine/ledger-entry.js';

describe('compareOrder', () => {
  it('compares sequencers of different widths as numbers', () => {
    expect(compareOrder('0055AED6DCD90281E5', '55AED6DCD90281E6')).toBeLessThan(0);
    expect(compareOrder('FF', '0100')).toBeLessThan(0);
    expect(compareOrder('00000000000000000002', '1')).toBeGreaterThan(0);
    expect(compareOrder('abc', 'ABC')).toBe(0);
  });
});
