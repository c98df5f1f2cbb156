import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

/** Cross-checks the calendar arithmetic against the platform's Date across the whole range. */
describe('epoch_ms agrees with Date', () => {
  const epochMs = typed('timestamptz', 'epoch_ms');
  const min = new Date('0001-01-01T00:00:00Z').getTime();
  const max = new Date('9999-12-31T23:59:59.999Z').getTime();

  it('for 2000 spread-out instants', () => {
    for (let k = 0; k <= 2000; k++) {
      const ms = Math.round(min + ((max - min) * k) / 2000) + (k % 1000);
      const clamped = Math.min(ms, max);
      const iso = new Date(clamped).toISOString();
      const fraction = iso.slice(20, 23) === '000' ? '' : `.${iso.slice(20, 23)}000`;
      const expected = `${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction}+00:00`;
      expect(epochMs(String(clamped))).toEqual({ ok: expected });
    }
  });
});
