import { describe, expect, it } from 'vitest';
import { CellProblem } from '../../../src/formats/table.js';
import { builtInFormatKind, customFormatKind, serialText } from '../../../src/formats/xlsx/dates.js';
import { exactNumberText, numberText, XlsxCell, xlsxConverter } from '../../../src/formats/xlsx/reader.js';
import { columnIndex, columnLetters } from '../../../src/formats/xlsx/sheet.js';
import type { ColumnContract } from '../../../src/model/contract.js';
import { seededRandom } from '../../harness/seeded-random.js';

const text = (result: ReturnType<typeof serialText>) => (result.ok ? result.text : result.reason);

describe('serialText', () => {
  it('counts the 1900 system with its phantom 1900-02-29', () => {
    expect(text(serialText(1, 1900))).toBe('1900-01-01');
    expect(text(serialText(59, 1900))).toBe('1900-02-28');
    expect(text(serialText(60, 1900))).toMatch(/1900-02-29, a day that does not exist/);
    expect(text(serialText(61, 1900))).toBe('1900-03-01');
    expect(text(serialText(45322, 1900))).toBe('2024-01-31');
    expect(text(serialText(2958465, 1900))).toBe('9999-12-31');
    expect(text(serialText(2958466, 1900))).toMatch(/past the last date/);
    expect(text(serialText(1e12, 1900))).toMatch(/past the last date/);
  });

  it('counts the 1904 system from 1904-01-01 without the bug', () => {
    expect(text(serialText(0, 1904))).toBe('1904-01-01');
    expect(text(serialText(1, 1904))).toBe('1904-01-02');
    expect(text(serialText(45322 - 1462, 1904))).toBe('2024-01-31');
  });

  it('keeps the time of day to the millisecond and rounds up to midnight', () => {
    expect(text(serialText(45322.5729166667, 1900))).toBe('2024-01-31T13:45:00');
    expect(text(serialText(45322.000011574, 1900))).toBe('2024-01-31T00:00:01');
    expect(text(serialText(45322 + 1234 / 86_400_000, 1900))).toBe('2024-01-31T00:00:01.234');
    expect(text(serialText(45322.9999999999, 1900))).toBe('2024-02-01');
    expect(serialText(0.75, 1900)).toEqual({ ok: true, text: '18:00:00', hasDate: false, hasTime: true });
    expect(text(serialText(-1, 1900))).toMatch(/not a date/);
  });
});

describe('number formats', () => {
  it('knows the built-in date and time formats', () => {
    expect(builtInFormatKind(0)).toBe('number');
    expect(builtInFormatKind(14)).toBe('date');
    expect(builtInFormatKind(20)).toBe('time');
    expect(builtInFormatKind(22)).toBe('datetime');
    expect(builtInFormatKind(4)).toBe('number');
  });

  it.each([
    ['yyyy-mm-dd', 'date'],
    ['dd/mm/yyyy hh:mm', 'datetime'],
    ['[$-409]mmmm d, yyyy;@', 'date'],
    ['h:mm AM/PM', 'time'],
    ['[h]:mm:ss', 'time'],
    ['mm:ss.0', 'time'],
    ['d-mmm', 'date'],
    ['m', 'date'],
    ['General', 'number'],
    ['0.00', 'number'],
    ['#,##0.00 "days"', 'number'],
    ['[Red]0.00;[Blue]-0.00', 'number'],
    ['$#,##0_);($#,##0)', 'number'],
    ['0.00E+00', 'number'],
    ['@', 'number'],
  ])('%s shows a %s', (code, kind) => {
    expect(customFormatKind(code)).toBe(kind);
  });
});

describe('xlsxConverter', () => {
  const column = (sql: ColumnContract['type']['kind']): ColumnContract => ({
    name: 'c',
    source: 'c',
    nullable: true,
    type: { kind: sql, sql },
  });
  const styles = ['number', 'date', 'time'] as const;

  it('reads numbers as dates where the column or the cell format says so', () => {
    const serial = new XlsxCell('number', '45322', 1);
    expect(xlsxConverter(column('date'), styles, 1900)(serial)).toBe('2024-01-31');
    expect(xlsxConverter(column('text'), styles, 1900)(serial)).toBe('2024-01-31');
    expect(xlsxConverter(column('integer'), styles, 1900)(serial)).toBe('45322');
    expect(xlsxConverter(column('date'), styles, 1904)(new XlsxCell('number', '0', 0))).toBe('1904-01-01');
    expect(xlsxConverter(column('text'), styles, 1900)(new XlsxCell('number', '0.25', 2))).toBe('06:00:00');
  });

  it('turns errors into rejects and booleans into true/false', () => {
    const error = xlsxConverter(column('integer'), styles, 1900)(new XlsxCell('error', '#DIV/0!', 0));
    expect(error).toEqual(new CellProblem('is an Excel error (#DIV/0!)', '#DIV/0!'));
    expect(xlsxConverter(column('boolean'), styles, 1900)(new XlsxCell('boolean', '1', 0))).toBe('true');
    expect(xlsxConverter(column('text'), styles, 1900)(new XlsxCell('boolean', '0', 0))).toBe('false');
  });

  it('shows numbers with the 15 significant digits Excel keeps', () => {
    expect(numberText('0.30000000000000004')).toBe('0.3');
    expect(numberText('1.0000000000000001E-2')).toBe('0.01');
    expect(numberText('123456789012345')).toBe('123456789012345');
    expect(numberText('12')).toBe('12');
  });

  it('gives plain cells the text the 15-digit rounding gives, without computing it', () => {
    const cases = ['0', '-0', '7', '-12.5', '0.000001', '0.0000001', '1.50', '00012', '0.10', '1e3', '1E-2'];
    const next = seededRandom(5);
    for (let i = 0; i < 5_000; i++) {
      const magnitude = 10 ** Math.floor(next() * 24 - 8);
      const value = (next() - 0.5) * magnitude;
      cases.push(String(value), value.toFixed(Math.floor(next() * 8)), String(Math.round(value)));
    }
    for (const text of cases) expect(numberText(text), text).toBe(exactNumberText(Number(text)));
  });
});

describe('cell references', () => {
  it('converts between letters and column indexes', () => {
    expect(columnIndex('A1')).toBe(0);
    expect(columnIndex('Z9')).toBe(25);
    expect(columnIndex('AA10')).toBe(26);
    expect(columnIndex('XFD1048576')).toBe(16383);
    expect(columnIndex('12')).toBe(-1);
    expect(columnLetters(0)).toBe('A');
    expect(columnLetters(27)).toBe('AB');
    expect(columnLetters(16383)).toBe('XFD');
  });
});
