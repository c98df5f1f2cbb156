import { describe, expect, it } from 'vitest';
import { type DelimiterHints, detectDelimiter } from '../../../src/formats/csv/dialect.js';

const hints = (extra: Partial<DelimiterHints> = {}): DelimiterHints => ({
  quote: '"',
  escape: '"',
  header: true,
  preferred: ',',
  wholeFile: false,
  ...extra,
});
const contract = (...names: string[]) => ({ expected: { names, fieldCount: names.length } });
const detect = (text: string, extra: Partial<DelimiterHints> = {}) =>
  detectDelimiter(Buffer.from(text), hints(extra));

describe('detectDelimiter without a contract (inlet infer)', () => {
  it('finds each candidate from the header and the rows under it', () => {
    expect(detect('a;b;c\n1;2;3\n')).toBe(';');
    expect(detect('a\tb\n1\t2\n')).toBe('\t');
    expect(detect('a|b|c\n1|2|3\n')).toBe('|');
    expect(detect('a,b\n1,2\n')).toBe(',');
  });

  it('ignores delimiters inside quotes', () => {
    expect(detect('"a;b",c\n"1;2",3\n')).toBe(',');
    expect(detect('"x, y";z\n"1, 2";3\n')).toBe(';');
  });

  it('prefers the delimiter on which every row agrees', () => {
    // A German export: decimal commas in the values, `;` between them.
    expect(detect('name;price;qty\nA;1,50;2\nB;2,75;10\n')).toBe(';');
  });

  it('falls back on the preferred delimiter when nothing splits', () => {
    expect(detect('single\nvalue\n')).toBe(',');
    expect(detect('single\nvalue\n', { preferred: '\t' })).toBe('\t');
    expect(detect('')).toBe(',');
  });

  it('reads a last row without a line end when the sample is the whole file', () => {
    expect(detect('a;b', { wholeFile: true })).toBe(';');
  });

  it('never takes the quote or escape character', () => {
    expect(detect("a|b|c\n'1'|'2'|'3'\n", { quote: '|', escape: '|' })).toBe(',');
  });
});

describe('detectDelimiter with a contract (ingestion)', () => {
  it('takes the delimiter whose header names the contract columns', () => {
    expect(detect('id;amount;note\n1;2,50;x\n', contract('id', 'amount', 'note'))).toBe(';');
    // Names compare trimmed and ignoring case, as header matching does.
    expect(detect(' ID |Amount\n1|2\n', contract('id', 'amount'))).toBe('|');
  });

  it('keeps the comma when its header matches, even if the values hold more semicolons', () => {
    expect(detect('id,note\n1,a;b;c;d\n2,e;f;g;h\n', contract('id', 'note'))).toBe(',');
  });

  it('keeps a one-column contract on the preferred delimiter', () => {
    expect(detect('note\nx;y\n', contract('note'))).toBe(',');
  });

  it('without a header, takes the delimiter giving the contract field count', () => {
    const noHeader = { header: false, ...contract('a', 'b', 'c') };
    expect(detect('1;2,5;x\n2;3,5;y\n', noHeader)).toBe(';');
    expect(detect('1,a;b,x\n2,c;d,y\n', noHeader)).toBe(',');
  });

  it('reads a header that matches nothing by its shape, so the drift message lists the right names', () => {
    expect(detect('x;y;z\n1;2;3\n', contract('id', 'amount'))).toBe(';');
  });
});

describe('detectDelimiter and its sample', () => {
  it('leaves the bytes it looked at as they were (the scanner collapses doubled quotes in place)', () => {
    const sample = Buffer.from('a,b\n"say ""hi""",2\n');
    const before = Buffer.from(sample);
    detectDelimiter(sample, hints());
    expect(sample.equals(before)).toBe(true);
  });
});
