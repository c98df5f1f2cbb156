import { describe, expect, it } from 'vitest';
import { typed } from './run-coercer.js';

const timestamp = typed('timestamp');
const timestamptz = typed('timestamptz');
const ISO = 'not a valid timestamp (expected ISO 8601 such as 2024-01-31 13:45:00)';

describe('timestamptz (ISO 8601)', () => {
  it.each([
    ['2024-01-31T13:45:00Z', '2024-01-31 13:45:00+00:00'],
    ['2024-01-31t13:45:00z', '2024-01-31 13:45:00+00:00'],
    ['2024-01-31 13:45:00', '2024-01-31 13:45:00'],
    ['2024-01-31T13:45', '2024-01-31 13:45:00'],
    ['2024-01-31', '2024-01-31 00:00:00'],
    ['  2024-01-31T13:45:07  ', '2024-01-31 13:45:07'],
    ['2024-01-31T13:45:00+02', '2024-01-31 13:45:00+02:00'],
    ['2024-01-31T13:45:00+0530', '2024-01-31 13:45:00+05:30'],
    ['2024-01-31T13:45:00-03:30', '2024-01-31 13:45:00-03:30'],
    ['2024-01-31T13:45:00-00:00', '2024-01-31 13:45:00+00:00'],
    ['2024-01-31T13:45:00+15:59', '2024-01-31 13:45:00+15:59'],
    ['2024-01-31T13:45:00-15:59', '2024-01-31 13:45:00-15:59'],
    ['2024-01-31T13:45Z', '2024-01-31 13:45:00+00:00'],
    ['2024-01-31T13:45:00.5Z', '2024-01-31 13:45:00.500000+00:00'],
    ['2024-01-31T13:45:00.123456Z', '2024-01-31 13:45:00.123456+00:00'],
    ['2024-01-31T13:45:00.000000', '2024-01-31 13:45:00'],
    ['2024-01-31T13:45:00.1234564', '2024-01-31 13:45:00.123456'],
    // Rounded like PostgreSQL, rint(double * 1e6): .1234565 is just below the tie as a double.
    ['2024-01-31T13:45:00.1234565', '2024-01-31 13:45:00.123456'],
    ['2024-01-31T13:45:00.1234566', '2024-01-31 13:45:00.123457'],
    ['2024-01-31T13:45:00.0000025', '2024-01-31 13:45:00.000002'],
    ['2024-01-31T13:45:00.123456789+01:00', '2024-01-31 13:45:00.123457+01:00'],
    ['2024-01-31T13:45:59.9999995', '2024-01-31 13:46:00'],
    ['2024-02-29T23:59:59.9999999Z', '2024-03-01 00:00:00+00:00'],
    ['2023-12-31T23:59:59.99999951', '2024-01-01 00:00:00'],
    ['0001-01-01T00:00:00', '0001-01-01 00:00:00'],
    ['9999-12-31T23:59:59.999999', '9999-12-31 23:59:59.999999'],
  ])('%j → %j', (input, expected) => {
    expect(timestamptz(input)).toEqual({ ok: expected });
  });

  it.each([
    ['2023-02-29T10:00:00', 'day 29 does not exist in February 2023'],
    ['2024-02-30', 'day 30 does not exist in February 2024'],
    ['2024-13-01T00:00', 'month 13 does not exist'],
    ['2024-01-31T24:00:00', 'hour 24 is out of range (00 to 23)'],
    ['2024-01-31T23:60:00', 'minute 60 is out of range (00 to 59)'],
    ['2024-01-31T23:59:60', 'second 60 is out of range (00 to 59)'],
    ['2024-01-31T10:00:00+16:00', 'time zone offset +16:00 is out of range (-15:59 to +15:59)'],
    ['2024-01-31T10:00:00-02:60', 'time zone offset -02:60 is out of range (-15:59 to +15:59)'],
    ['9999-12-31T23:59:59.9999999', 'out of range (years 0001 to 9999)'],
  ])('rejects %j: %s', (input, reason) => {
    expect(timestamptz(input)).toEqual({ error: reason });
  });

  it.each([
    '2024-01-31T',
    '2024-01-31T1:00',
    '2024-01-31T13',
    '2024-01-31T13:4',
    '2024-01-31T13:45:0',
    '2024-01-31T13:45:00.',
    '2024-01-31T13:45:00Z+01',
    '2024-01-31T13:45:00 +01:00',
    '2024-01-31T13:45:00+1',
    '2024-01-31T13:45:00+01:',
    '2024-01-31T13:45:00+01:0',
    '2024-01-31T13:45:00+01:000',
    '2024-01-31Z',
    '2024-01-31X13:45',
    '2024/01/31 13:45',
    '31.01.2024 13:45',
    '1706700000',
  ])('rejects the shape %j', (input) => {
    expect(timestamptz(input)).toEqual({ error: ISO });
  });
});

describe('timestamp (without time zone)', () => {
  it('emits local times as given', () => {
    expect(timestamp('2024-01-31T13:45:00.25')).toEqual({ ok: '2024-01-31 13:45:00.250000' });
    expect(timestamp('2024-01-31')).toEqual({ ok: '2024-01-31 00:00:00' });
  });

  it.each(['2024-01-31T13:45:00Z', '2024-01-31T13:45:00+02:00', '2024-01-31T13:45-0500'])(
    'refuses an offset in %j',
    (input) => {
      expect(timestamp(input)).toEqual({
        error: 'has a time zone offset but the column is timestamp without time zone',
      });
    },
  );
});

describe('timestamps with a format', () => {
  it.each([
    ['timestamp', 'DD/MM/YYYY HH:mm', '31/01/2024 13:45', '2024-01-31 13:45:00'],
    ['timestamp', 'DD/MM/YYYY HH:mm:ss', '31/01/2024 13:45:07', '2024-01-31 13:45:07'],
    ['timestamp', 'D.M.YYYY H:mm', '1.2.2024 9:05', '2024-02-01 09:05:00'],
    ['timestamp', 'MM/DD/YYYY', '01/31/2024', '2024-01-31 00:00:00'],
    ['timestamp', 'YYYYMMDDHHmmss', '20240131134507', '2024-01-31 13:45:07'],
    ['timestamp', 'YYYY-MM-DDTHH:mm:ss.SSS', '2024-01-31T13:45:07.5', '2024-01-31 13:45:07.500000'],
    ['timestamp', 'YYYY-MM-DD HH:mm:ss.SSSSSS', '2024-01-31 13:45:07.1234567', '2024-01-31 13:45:07.123457'],
    ['timestamptz', 'DD/MM/YYYY HH:mm Z', '31/01/2024 13:45 +0100', '2024-01-31 13:45:00+01:00'],
    ['timestamptz', 'DD/MM/YYYY HH:mm:ssZ', '31/01/2024 13:45:00Z', '2024-01-31 13:45:00+00:00'],
    ['timestamptz', 'DD/MM/YYYY HH:mm', '31/01/2024 13:45', '2024-01-31 13:45:00'],
    [
      'timestamptz',
      'YYYY-MM-DD HH:mm:ss.SSSZ',
      '2024-01-31 13:45:00.1-05:00',
      '2024-01-31 13:45:00.100000-05:00',
    ],
  ] as const)('%s %s: %j → %j', (kind, format, input, expected) => {
    expect(typed(kind, format)(input)).toEqual({ ok: expected });
  });

  it.each([
    ['timestamp', 'DD/MM/YYYY HH:mm', '31/01/2024 25:00', 'hour 25 is out of range (00 to 23)'],
    ['timestamp', 'DD/MM/YYYY HH:mm', '29/02/2023 10:00', 'day 29 does not exist in February 2023'],
    [
      'timestamp',
      'DD/MM/YYYY HH:mm',
      '31/01/2024 13:45:00',
      'not a valid timestamp (expected DD/MM/YYYY HH:mm)',
    ],
    ['timestamp', 'DD/MM/YYYY HH:mm', '31/01/2024', 'not a valid timestamp (expected DD/MM/YYYY HH:mm)'],
    [
      'timestamptz',
      'DD/MM/YYYY HH:mm Z',
      '31/01/2024 13:45',
      'not a valid timestamp (expected DD/MM/YYYY HH:mm Z)',
    ],
    [
      'timestamptz',
      'DD/MM/YYYY HH:mm Z',
      '31/01/2024 13:45 +16:00',
      'time zone offset +16:00 is out of range (-15:59 to +15:59)',
    ],
  ] as const)('%s %s: rejects %j', (kind, format, input, reason) => {
    expect(typed(kind, format)(input)).toEqual({ error: reason });
  });
});

describe('epoch formats', () => {
  const epochTz = typed('timestamptz', 'epoch');
  const epochMsTz = typed('timestamptz', 'epoch_ms');
  const epochLocal = typed('timestamp', 'epoch');
  const epochMsLocal = typed('timestamp', 'epoch_ms');

  it.each([
    ['0', '1970-01-01 00:00:00+00:00'],
    ['1706708700', '2024-01-31 13:45:00+00:00'],
    ['1706708700.25', '2024-01-31 13:45:00.250000+00:00'],
    ['  1706708700 ', '2024-01-31 13:45:00+00:00'],
    ['+1706708700', '2024-01-31 13:45:00+00:00'],
    ['951825600', '2000-02-29 12:00:00+00:00'],
    ['-1', '1969-12-31 23:59:59+00:00'],
    ['-1.5', '1969-12-31 23:59:58.500000+00:00'],
    ['-62135596800', '0001-01-01 00:00:00+00:00'],
    ['253402300799.999999', '9999-12-31 23:59:59.999999+00:00'],
    ['0.0000006', '1970-01-01 00:00:00.000001+00:00'],
    ['0.0000004', '1970-01-01 00:00:00+00:00'],
    ['-0', '1970-01-01 00:00:00+00:00'],
    ['0001', '1970-01-01 00:00:01+00:00'],
  ])('epoch %j → %j', (input, expected) => {
    expect(epochTz(input)).toEqual({ ok: expected });
  });

  it.each([
    ['1706708700123', '2024-01-31 13:45:00.123000+00:00'],
    ['1706708700123.5', '2024-01-31 13:45:00.123500+00:00'],
    ['1706708700123.0004', '2024-01-31 13:45:00.123000+00:00'],
    ['1706708700123.0006', '2024-01-31 13:45:00.123001+00:00'],
    ['999.9996', '1970-01-01 00:00:01+00:00'],
    ['-1500', '1969-12-31 23:59:58.500000+00:00'],
    ['-1', '1969-12-31 23:59:59.999000+00:00'],
  ])('epoch_ms %j → %j', (input, expected) => {
    expect(epochMsTz(input)).toEqual({ ok: expected });
  });

  it('emits UTC wall time for timestamp without time zone', () => {
    expect(epochLocal('1706708700')).toEqual({ ok: '2024-01-31 13:45:00' });
    expect(epochMsLocal('1706708700123')).toEqual({ ok: '2024-01-31 13:45:00.123000' });
  });

  it.each([
    ['253402300800', 'out of range (years 0001 to 9999)'],
    ['-62135596801', 'out of range (years 0001 to 9999)'],
    ['1234567890123456', 'out of range (years 0001 to 9999)'],
    ['1e9', 'not a Unix timestamp in seconds'],
    ['1706708700.', 'not a Unix timestamp in seconds'],
    ['.5', 'not a Unix timestamp in seconds'],
    ['-', 'not a Unix timestamp in seconds'],
    ['2024-01-31', 'not a Unix timestamp in seconds'],
  ])('epoch rejects %j', (input, reason) => {
    expect(epochTz(input)).toEqual({ error: reason });
  });

  it('epoch_ms names its unit', () => {
    expect(epochMsTz('12a')).toEqual({ error: 'not a Unix timestamp in milliseconds' });
  });
});
