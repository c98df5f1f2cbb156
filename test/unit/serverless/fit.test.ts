/** The size rule that sends an object to the task, and the watchdog's margin (docs/benchmarks.md, "Hand-over to a task"). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/load.js';
import {
  defaultLambdaMaxBytes,
  expansionAwareBytes,
  fitsLambda,
  lambdaLimit,
  pastEveryLimit,
} from '../../../src/serverless/fit.js';
import { watchdogMarginMs } from '../../../src/serverless/watchdog.js';

const config = parseConfig(
  `
pipelines:
  - { name: plain, match: ["**"], table: public.t, columns: [{ name: a, type: text }] }
  - { name: capped, table: public.t, serverless: { maxLambdaBytes: 1000 }, columns: [{ name: a, type: text }] }
  - { name: gz, table: public.t, compression: gzip, columns: [{ name: a, type: text }] }
`,
  'fit test',
);
const [plain, capped, gz] = config.pipelines as [
  (typeof config.pipelines)[number],
  (typeof config.pipelines)[number],
  (typeof config.pipelines)[number],
];

describe('the Lambda limit', () => {
  it('is 5 MB/s over half the time left: 2.25 GB at 15 minutes, 750 MB at 5', () => {
    expect(defaultLambdaMaxBytes(900_000)).toBe(2_250_000_000);
    expect(defaultLambdaMaxBytes(300_000)).toBe(750_000_000);
  });

  it('comes from the pipeline, else the setting, else the time; none outside Lambda', () => {
    expect(lambdaLimit(capped, 50, 900_000)).toEqual({ bytes: 1000, source: 'pipeline' });
    expect(lambdaLimit(plain, 50, 900_000)).toEqual({ bytes: 50, source: 'setting' });
    expect(lambdaLimit(plain, undefined, 900_000)).toEqual({ bytes: 2_250_000_000, source: 'timeout' });
    expect(lambdaLimit(plain, undefined, undefined)).toBeUndefined();
  });

  it('counts compressed objects 8x, Parquet and XLSX 4x, others as they are', () => {
    expect(expansionAwareBytes('a.csv', 100, plain)).toBe(100);
    expect(expansionAwareBytes('a.csv.gz', 100, plain)).toBe(800);
    expect(expansionAwareBytes('a.zip', 100, plain)).toBe(800);
    expect(expansionAwareBytes('a.csv', 100, gz)).toBe(800);
    expect(expansionAwareBytes('a.parquet', 100, plain)).toBe(400);
    expect(expansionAwareBytes('a.xlsx', 100, plain)).toBe(400);
  });

  it('says why an object does not fit, and which limit', () => {
    expect(fitsLambda('a.csv', 1000, capped, lambdaLimit(capped, undefined, undefined))).toEqual({
      fits: true,
    });
    const verdict = fitsLambda('a.csv.gz', 200, capped, lambdaLimit(capped, undefined, undefined));
    expect(verdict).toMatchObject({ fits: false, bytes: 1600 });
    expect(verdict.fits === false && verdict.reason).toContain('serverless.maxLambdaBytes');
  });

  it('rejects only objects the task must spool and cannot', () => {
    expect(pastEveryLimit('a.csv', 10_000, plain, 100)).toBeUndefined();
    expect(pastEveryLimit('a.parquet', 10, plain, 100)).toBeUndefined();
    expect(pastEveryLimit('a.parquet', 100, plain, 100)).toContain('INLET_TASK_MAX_BYTES');
  });
});

describe('the watchdog margin', () => {
  it('keeps back the larger of 30 s and a fifth, never more than half', () => {
    expect(watchdogMarginMs(900_000)).toBe(180_000);
    expect(watchdogMarginMs(100_000)).toBe(30_000);
    expect(watchdogMarginMs(2_000)).toBe(1_000);
  });
});
