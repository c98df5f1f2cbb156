import { describe, expect, it } from 'vitest';
import { csvCell, csvRow } from '../../../src/ledger/csv-export.js';

describe('csvCell', () => {
  it('writes plain text as it is', () => {
    expect(csvCell('hello world')).toBe('hello world');
  });

  it('writes null and undefined as empty cells', () => {
    expect(csvCell(null)).toBe('');
    expect(csvCell(undefined)).toBe('');
  });

  it('quotes cells holding a comma, a quote or a line break (RFC 4180), doubling quotes', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    expect(csvCell('cr\rhere')).toBe('"cr\rhere"');
  });

  it.each(['=1+1', '+1', '-1', '@SUM(A1)', '\tx'])('defuses a cell starting like a formula: %j', (value) => {
    expect(csvCell(value)).toBe(`'${value}`);
  });

  it('defuses and quotes together', () => {
    expect(csvCell('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvCell('\rnext')).toBe(`"'\rnext"`);
  });

  it('leaves formula characters alone past the first character', () => {
    expect(csvCell('a=b')).toBe('a=b');
    expect(csvCell(' =1')).toBe(' =1');
  });

  it("writes Inlet's own numbers unchanged", () => {
    expect(csvCell(12)).toBe('12');
    expect(csvCell(0)).toBe('0');
  });

  it('keeps non-ASCII text', () => {
    expect(csvCell('Zoë, Ørsted')).toBe('"Zoë, Ørsted"');
  });
});

describe('csvRow', () => {
  it('joins cells with commas and ends with CRLF', () => {
    expect(csvRow([3, 2, 'amount', '12,50', 'not a number'])).toBe('3,2,amount,"12,50",not a number\r\n');
    expect(csvRow([null, 1, undefined, '-5', 'x'])).toBe(",1,,'-5,x\r\n");
  });
});
