import { describe, expect, it } from 'vitest';
import { thresholdVerdict } from '../../../src/engine/threshold.js';

describe('thresholdVerdict', () => {
  it('rejects any bad row by default and knows it early', () => {
    expect(thresholdVerdict({ maxRatio: 0 }, 0, 10)).toMatchObject({ rejected: false, early: false });
    expect(thresholdVerdict({ maxRatio: 0 }, 1, 10)).toMatchObject({ rejected: true, early: true });
  });

  it('applies maxRatio only at the end', () => {
    const verdict = thresholdVerdict({ maxRatio: 0.1 }, 2, 10);
    expect(verdict).toMatchObject({ rejected: true, early: false });
    expect(verdict.message).toBe(
      '2 of 10 rows were rejected (20.0%), more than the pipeline allows (rejects.maxRatio: 0.1); nothing was loaded.',
    );
    expect(thresholdVerdict({ maxRatio: 0.1 }, 1, 10).rejected).toBe(false);
  });

  it('applies maxRejects as soon as it is passed, alone or with maxRatio', () => {
    expect(thresholdVerdict({ maxRejects: 2 }, 2, 3)).toMatchObject({ rejected: false, early: false });
    expect(thresholdVerdict({ maxRejects: 2 }, 3, 3)).toMatchObject({ rejected: true, early: true });
    expect(thresholdVerdict({ maxRejects: 100, maxRatio: 0.5 }, 3, 4)).toMatchObject({
      rejected: true,
      early: false,
    });
  });
});
