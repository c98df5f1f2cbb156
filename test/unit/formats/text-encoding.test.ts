import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../src/errors.js';
import {
  byteOrderMark,
  type DeclaredEncoding,
  headAsUtf8,
  TextDecoding,
  utf8SequenceAt,
} from '../../../src/formats/text-encoding.js';
import type { TextEncoding } from '../../../src/model/contract.js';

const TEXT = 'name;city\nJosé;São Paulo\nZoë;Köln €\n';

/** The chunks split at every `size` bytes, the way a stream may cut them (mid-character included). */
function* split(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

async function decode(
  bytes: Buffer,
  declared: DeclaredEncoding = 'auto',
  size = bytes.length,
  singleByteFallback = true,
): Promise<{ text: string; encoding: TextEncoding }> {
  const decoding = new TextDecoding(declared, { singleByteFallback, source: 'file:///x.csv' });
  const out: Buffer[] = [];
  async function* chunks() {
    yield* split(bytes, size);
  }
  for await (const chunk of decoding.decode(chunks())) out.push(chunk);
  return { text: Buffer.concat(out).toString('utf8'), encoding: decoding.encoding };
}

const utf16 = (text: string, order: 'le' | 'be') => {
  const le = Buffer.from(`\ufeff${text}`, 'utf16le');
  return order === 'le' ? le : Buffer.from(le).swap16();
};

const windows1252 = (text: string) =>
  Buffer.from([...text].map((c) => (c === '€' ? 0x80 : c === '‚' ? 0x82 : (c.codePointAt(0) as number))));

describe('TextDecoding', () => {
  // Every chunk size from one byte up: a mark, a character or a decision cut anywhere reads the same.
  const sizes = [1, 2, 3, 5, 7, 64, 1 << 16];

  it.each(sizes)('reads UTF-8 with and without its byte order mark, in %i-byte chunks', async (size) => {
    expect(await decode(Buffer.from(TEXT), 'auto', size)).toEqual({ text: TEXT, encoding: 'utf8' });
    const marked = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(TEXT)]);
    expect(await decode(marked, 'auto', size)).toEqual({ text: TEXT, encoding: 'utf8' });
  });

  it.each(sizes)('reads UTF-16LE and UTF-16BE by their byte order mark, in %i-byte chunks', async (size) => {
    expect(await decode(utf16(TEXT, 'le'), 'auto', size)).toEqual({ text: TEXT, encoding: 'utf16le' });
    expect(await decode(utf16(TEXT, 'be'), 'auto', size)).toEqual({ text: TEXT, encoding: 'utf16be' });
    // Characters past the Basic Multilingual Plane are two UTF-16 units, cut anywhere by the chunks.
    expect(await decode(utf16('a\t😀\n', 'le'), 'auto', size)).toEqual({
      text: 'a\t😀\n',
      encoding: 'utf16le',
    });
  });

  it.each(sizes)('reads bytes that are not UTF-8 as Windows-1252, in %i-byte chunks', async (size) => {
    const text = `${'plain ASCII line\n'.repeat(50)}José;€ 5,00;‚quoted‚\n`;
    expect(await decode(windows1252(text), 'auto', size)).toEqual({ text, encoding: 'windows1252' });
  });

  it('keeps an ASCII file UTF-8: no byte tells it apart, and the rows read the same either way', async () => {
    expect(await decode(Buffer.from('a,b\n1,2\n'))).toEqual({ text: 'a,b\n1,2\n', encoding: 'utf8' });
  });

  it('lets the first character past ASCII decide, so a stray bad byte later is not the whole file', async () => {
    const bytes = Buffer.concat([Buffer.from('José\n'), Buffer.from([0xe9, 0x0a])]);
    const read = await decode(bytes);
    expect(read.encoding).toBe('utf8');
    // Passed on as it is: the CSV encoder rejects the row that holds it, naming the column.
    expect(Buffer.from(read.text, 'utf8').includes(Buffer.from('José'))).toBe(true);
  });

  it('reads a UTF-8 sequence cut off by the end of the file as Windows-1252', async () => {
    expect(await decode(Buffer.from([0x61, 0xc3]))).toEqual({ text: 'aÃ', encoding: 'windows1252' });
  });

  it('never guesses a single-byte encoding when told not to (JSON)', async () => {
    const read = await decode(Buffer.from([0x7b, 0xe9, 0x7d]), 'auto', 3, false);
    expect(read.encoding).toBe('utf8');
  });

  it('follows an explicit encoding over the bytes', async () => {
    // 0x80 is € in Windows-1252 and a C1 control in ISO-8859-1.
    expect((await decode(Buffer.from([0x80]), 'windows1252')).text).toBe('€');
    expect((await decode(Buffer.from([0x80]), 'latin1')).text).toBe('\u0080');
    expect(await decode(Buffer.from('a\tb\n', 'utf16le'), 'utf16le')).toEqual({
      text: 'a\tb\n',
      encoding: 'utf16le',
    });
    const marked = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('x')]);
    expect((await decode(marked, 'utf8')).text).toBe('x');
  });

  it('refuses UTF-16 that is not: an odd byte at the end, or half a surrogate pair', async () => {
    const odd = Buffer.concat([utf16('ab', 'le'), Buffer.from([0x41])]);
    const lone = Buffer.concat([utf16('ab', 'le'), Buffer.from([0x00, 0xd8, 0x41, 0x00])]);
    for (const bytes of [odd, lone]) {
      const error = await decode(bytes).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(FormatError);
      expect((error as FormatError).code).toBe('invalid_utf16');
      expect((error as FormatError).message).toMatch(/not valid UTF-16LE .*byte order mark.*Re-export/);
    }
  });

  it('reads an empty file and a file shorter than a byte order mark', async () => {
    expect(await decode(Buffer.alloc(0))).toEqual({ text: '', encoding: 'utf8' });
    expect(await decode(Buffer.from('a'))).toEqual({ text: 'a', encoding: 'utf8' });
    expect(await decode(Buffer.from([0xe9]))).toEqual({ text: 'é', encoding: 'windows1252' });
  });

  it('takes time linear in the size of the file, whatever its chunks', async () => {
    // 4 MB of Windows-1252 in 1-KiB chunks: a quadratic carry would take minutes here, not milliseconds.
    const big = windows1252('é;€\n'.repeat(1 << 20));
    const read = await decode(big, 'auto', 1024);
    expect(read.encoding).toBe('windows1252');
    expect(read.text.length).toBe(4 << 20);
  });
});

describe('byteOrderMark and headAsUtf8', () => {
  it('names the mark and reads a UTF-16 head as UTF-8 text for format detection', () => {
    expect(byteOrderMark(utf16('a', 'le'))).toBe('utf16le');
    expect(byteOrderMark(utf16('a', 'be'))).toBe('utf16be');
    expect(byteOrderMark(Buffer.from([0xef, 0xbb, 0xbf, 0x61]))).toBe('utf8');
    expect(byteOrderMark(Buffer.from('a'))).toBeUndefined();
    expect(Buffer.from(headAsUtf8(utf16('id\tname\n', 'be'))).toString('utf8')).toBe('id\tname\n');
    // A head cut mid-unit drops the half unit.
    expect(Buffer.from(headAsUtf8(utf16('ab', 'le').subarray(0, 5))).toString('utf8')).toBe('a');
    const plain = Buffer.from('a,b');
    expect(headAsUtf8(plain)).toBe(plain);
  });
});

describe('utf8SequenceAt', () => {
  it('follows RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF', () => {
    const at = (...bytes: number[]) => utf8SequenceAt(Buffer.from(bytes), 0);
    expect(at(0xc3, 0xa9)).toBe('valid');
    expect(at(0xe2, 0x82, 0xac)).toBe('valid');
    expect(at(0xf0, 0x9f, 0x98, 0x80)).toBe('valid');
    expect(at(0xc0, 0xaf)).toBe('invalid');
    expect(at(0xe0, 0x80, 0xaf)).toBe('invalid');
    expect(at(0xed, 0xa0, 0x80)).toBe('invalid');
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe('invalid');
    expect(at(0xe9, 0x3b)).toBe('invalid');
    expect(at(0x80)).toBe('invalid');
    expect(at(0xe2, 0x82)).toBe('incomplete');
    // Agrees with the platform's own decoder on every two-byte sequence.
    for (let a = 0x80; a < 0x100; a++) {
      for (let b = 0; b < 0x100; b++) {
        const verdict = at(a, b);
        if (verdict === 'incomplete') continue;
        const fatal = new TextDecoder('utf-8', { fatal: true });
        let decodes = true;
        try {
          fatal.decode(Buffer.from([a, b]));
        } catch {
          decodes = false;
        }
        if (decodes) expect(verdict).toBe('valid');
      }
    }
  });
});
