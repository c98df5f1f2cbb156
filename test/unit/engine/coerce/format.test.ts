import { describe, expect, it } from 'vitest';
import { makeCoercer, validateFormat } from '../../../../src/engine/coerce/index.js';
import { CopyTextBuffer } from '../../../../src/engine/copy-text.js';
import type { ScalarKind } from '../../../../src/model/contract.js';
import { column } from './run-coercer.js';

const check = (kind: ScalarKind, format: string): string | undefined =>
  validateFormat(column({ kind }, format));

describe('validateFormat', () => {
  it('accepts a column without a format', () => {
    expect(validateFormat(column({ kind: 'uuid' }))).toBeUndefined();
  });

  it.each([
    ['numeric', '1.234,56'],
    ['numeric', '1,234.56'],
    ['numeric', '1 234,56'],
    ['numeric', "1'234.56"],
    ['numeric', '1234,56'],
    ['integer', '1.234,0'],
    ['real', '1.234,5'],
    ['date', 'DD/MM/YYYY'],
    ['date', 'YYYYMMDD'],
    ['date', 'D.M.YYYY'],
    ['timestamp', 'DD/MM/YYYY HH:mm'],
    ['timestamp', 'YYYY-MM-DDTHH:mm:ss.SSS'],
    ['timestamptz', 'YYYY-MM-DD HH:mm:ssZ'],
    ['timestamptz', 'epoch'],
    ['timestamp', 'epoch_ms'],
  ] as const)('%s accepts %j', (kind, format) => {
    expect(check(kind, format)).toBeUndefined();
  });

  it.each([
    ['numeric', '1234', 'number format "1234" has no decimal mark (e.g. 1.234,56 or 1,234.56)'],
    [
      'numeric',
      '1.234.567',
      'number format "1.234.567" uses "." both as decimal mark and thousands separator',
    ],
    ['numeric', '1,234 567.8', 'number format "1,234 567.8" mixes different thousands separators'],
    ['numeric', '1,,234.5', 'number format "1,,234.5" does not read as a number in its own layout'],
    ['numeric', '1.2345,6', 'number format "1.2345,6" does not read as a number in its own layout'],
    [
      'numeric',
      '1.234,56 EUR',
      'number format "1.234,56 EUR" may only contain digits and separators (e.g. 1.234,56 or 1,234.56)',
    ],
    [
      'numeric',
      '1 234 ',
      'number format "1 234 " must use an ASCII character such as "." or "," as its decimal mark',
    ],
    [
      'date',
      'DD/MM/YY',
      'format "DD/MM/YY" has an unknown token "YY"; supported: YYYY MM M DD D HH H mm ss SSS Z',
    ],
    [
      'date',
      'dd/mm/yyyy',
      'format "dd/mm/yyyy" has an unknown token "dd"; supported: YYYY MM M DD D HH H mm ss SSS Z',
    ],
    ['date', 'DD/MM', 'format "DD/MM" must contain YYYY, MM (or M) and DD (or D)'],
    ['date', 'DD/MM/YYYY/MM', 'format "DD/MM/YYYY/MM" has "MM" more than once'],
    ['date', 'DD/MM/YYYY HH:mm', 'format "DD/MM/YYYY HH:mm" has "HH", but a date column holds no time'],
    ['date', 'epoch', 'format "epoch" has an unknown token "e"; supported: YYYY MM M DD D HH H mm ss SSS Z'],
    ['date', 'YYYYMD', 'format "YYYYMD" needs a separator after "M" (it may have one or two digits)'],
    ['date', '', 'format is empty'],
    [
      'timestamp',
      'DD/MM/YYYY HH:mm Z',
      'format "DD/MM/YYYY HH:mm Z" has a time zone offset (Z), but the column is timestamp without time zone',
    ],
    ['timestamp', 'DD/MM/YYYY mm', 'format "DD/MM/YYYY mm" has mm without HH'],
    [
      'timestamp',
      'DD/MM/YYYY hh:mm',
      'format "DD/MM/YYYY hh:mm" has an unknown token "hh"; supported: YYYY MM M DD D HH H mm ss SSS Z',
    ],
    [
      'timestamp',
      'YYYY-MM-DD HH:mm:ss.SSSSSSS',
      'format "YYYY-MM-DD HH:mm:ss.SSSSSSS" has an unknown token "SSSSSSS"; supported: YYYY MM M DD D HH H mm ss SSS Z',
    ],
    [
      'timestamp',
      'YYYY-MM-DD HH:mm:ss.SSS\u0001',
      'format "YYYY-MM-DD HH:mm:ss.SSS\u0001" contains a control character',
    ],
    ['boolean', 'yes/no', 'a format is not supported for boolean columns'],
    ['uuid', 'x', 'a format is not supported for uuid columns'],
    ['text', 'x', 'a format is not supported for text columns'],
    ['jsonb', 'x', 'a format is not supported for jsonb columns'],
  ] as const)('%s refuses %j', (kind, format, reason) => {
    expect(check(kind, format)).toBe(reason);
  });
});

describe('makeCoercer', () => {
  it('throws a plain Error naming the column for an unusable format', () => {
    expect(() => makeCoercer(column({ kind: 'date' }, 'DD/MM/YY'))).toThrowError(
      'column "c": format "DD/MM/YY" has an unknown token "YY"; supported: YYYY MM M DD D HH H mm ss SSS Z',
    );
    expect(() => makeCoercer(column({ kind: 'uuid' }, 'x'))).toThrowError(
      'column "c": a format is not supported for uuid columns',
    );
  });

  it('appends after what the buffer already holds and only advances on success', () => {
    const out = new CopyTextBuffer(2);
    out.ascii('a\t');
    const coerce = makeCoercer(column({ kind: 'integer' }));
    const src = Buffer.from('12|x|-7');
    expect(coerce(src, 0, 2, out)).toBeUndefined();
    expect(coerce(src, 3, 4, out)).toBe('not an integer');
    expect(coerce(src, 5, 7, out)).toBeUndefined();
    expect(out.take().toString()).toBe('a\t12-7');
  });
});
