import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

const date = typed('date');
const ISO = 'not a valid date (expected YYYY-MM-DD)';

describe('date (ISO)', () => {
  it.each(['2024-01-31', '0001-01-01', '9999-12-31', '2024-02-29', '2000-02-29', '1600-02-29'])(
    '%j',
    (input) => {
      expect(date(input)).toEqual({ ok: input });
    },
  );

  it('trims spaces', () => {
    expect(date('  2024-01-31 ')).toEqual({ ok: '2024-01-31' });
  });

  it.each([
    ['2023-02-29', 'day 29 does not exist in February 2023'],
    ['1900-02-29', 'day 29 does not exist in February 1900'],
    ['2100-02-29', 'day 29 does not exist in February 2100'],
    ['2024-02-30', 'day 30 does not exist in February 2024'],
    ['2024-04-31', 'day 31 does not exist in April 2024'],
    ['2024-01-32', 'day 32 does not exist in January 2024'],
    ['2024-01-00', 'day 0 does not exist in January 2024'],
    ['2024-13-01', 'month 13 does not exist'],
    ['2024-00-10', 'month 0 does not exist'],
    ['0000-01-01', 'year 0000 is out of range (years 0001 to 9999)'],
  ])('rejects %j: %s', (input, reason) => {
    expect(date(input)).toEqual({ error: reason });
  });

  it.each([
    '2024-1-31',
    '2024/01/31',
    '24-01-31',
    '2024-01-31T00:00',
    '20240131',
    '2024-01-3a',
    '+2024-01-31',
    '31.01.2024',
  ])('rejects the shape %j', (input) => {
    expect(date(input)).toEqual({ error: ISO });
  });
});

describe('date with a format', () => {
  it.each([
    ['DD/MM/YYYY', '31/01/2024', '2024-01-31'],
    ['MM/DD/YYYY', '01/31/2024', '2024-01-31'],
    ['YYYYMMDD', '20240131', '2024-01-31'],
    ['D.M.YYYY', '1.2.2024', '2024-02-01'],
    ['D.M.YYYY', '01.02.2024', '2024-02-01'],
    ['D.M.YYYY', '31.12.2024', '2024-12-31'],
    ['YYYY年M月D日', '2024年2月9日', '2024-02-09'],
    ['M/D/YYYY', '2/29/2000', '2000-02-29'],
  ])('%s: %j → %j', (format, input, expected) => {
    expect(typed('date', format)(input)).toEqual({ ok: expected });
  });

  it.each([
    ['DD/MM/YYYY', '31/02/2024', 'day 31 does not exist in February 2024'],
    ['DD/MM/YYYY', '29/02/2023', 'day 29 does not exist in February 2023'],
    ['DD/MM/YYYY', '01/13/2024', 'month 13 does not exist'],
    ['DD/MM/YYYY', '1/01/2024', 'not a valid date (expected DD/MM/YYYY)'],
    ['DD/MM/YYYY', '01-01-2024', 'not a valid date (expected DD/MM/YYYY)'],
    ['DD/MM/YYYY', '01/01/24', 'not a valid date (expected DD/MM/YYYY)'],
    ['DD/MM/YYYY', '01/01/2024x', 'not a valid date (expected DD/MM/YYYY)'],
    ['D.M.YYYY', '1.123.2024', 'not a valid date (expected D.M.YYYY)'],
    ['YYYYMMDD', '2024013', 'not a valid date (expected YYYYMMDD)'],
  ])('%s: rejects %j', (format, input, reason) => {
    expect(typed('date', format)(input)).toEqual({ error: reason });
  });
});
