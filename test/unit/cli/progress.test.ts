import { describe, expect, it } from 'vitest';
import { createProgressBar, renderProgress } from '../../../src/cli/progress.js';

describe('renderProgress', () => {
  it('shows the share of bytes done and the row rate', () => {
    const line = renderProgress(
      'big.csv',
      { bytes: 50_000_000, totalBytes: 100_000_000, rows: 200_000 },
      2000,
      120,
    );
    expect(line).toBe('big.csv [############------------] 50% 50.0 MB / 100.0 MB · 100,000 rows/s');
  });

  it('shortens a long name from the start to fit the terminal', () => {
    const line = renderProgress(
      `${'deep/'.repeat(20)}big.csv`,
      { bytes: 1, totalBytes: 2, rows: 0 },
      1000,
      80,
    );
    expect([...line].length).toBeLessThanOrEqual(80);
    expect(line.startsWith('…')).toBe(true);
  });
});

describe('createProgressBar', () => {
  it('redraws at most ten times a second and clears its line when done', () => {
    const writes: string[] = [];
    const stream = {
      columns: 100,
      write: (text: string) => writes.push(text),
    } as unknown as NodeJS.WriteStream;
    let now = 1000;
    const bar = createProgressBar('a.csv', stream, () => now);
    for (let i = 0; i < 50; i++) {
      now += 10;
      bar.update({ bytes: i, totalBytes: 100, rows: i });
    }
    expect(writes.length).toBe(5);
    bar.done();
    expect(writes.at(-1)).toBe('\r\x1b[2K');
  });
});
