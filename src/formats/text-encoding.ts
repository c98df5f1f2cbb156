/**
 * Text files in the encodings clients' exports come in, turned into UTF-8 as they stream, so every
 * reader after this one sees UTF-8 only: UTF-8 with or without a byte order mark, UTF-16LE/BE (Excel's
 * "Unicode text" export) by its byte order mark, and Windows-1252 (a Western European Excel's
 * "CSV") when the bytes are not UTF-8.
 */
import { isAscii } from 'node:buffer';
import { TextDecoder } from 'node:util';
import { FormatError } from '../errors.js';
import type { TextEncoding } from '../model/contract.js';

export type { TextEncoding };

/** A pipeline's `csv.encoding`: `auto` reads the byte order mark, else the first bytes that are not ASCII. */
export type DeclaredEncoding = 'auto' | TextEncoding;

/** How each encoding is named to users (the WHATWG label, which TextDecoder takes). */
const LABELS: Record<TextEncoding, string> = {
  utf8: 'UTF-8',
  utf16le: 'UTF-16LE',
  utf16be: 'UTF-16BE',
  windows1252: 'Windows-1252',
  latin1: 'ISO-8859-1',
};

export function encodingLabel(encoding: TextEncoding): string {
  return LABELS[encoding];
}

const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** The byte order mark the bytes start with, if any. */
export function byteOrderMark(head: Uint8Array): 'utf8' | 'utf16le' | 'utf16be' | undefined {
  if (head[0] === UTF8_BOM[0] && head[1] === UTF8_BOM[1] && head[2] === UTF8_BOM[2]) return 'utf8';
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf16be';
  return undefined;
}

/**
 * The first bytes of a UTF-16 file (by its byte order mark) as UTF-8, for format detection, which would
 * otherwise see every other byte NUL and call the text binary; other bytes come back as they are.
 */
export function headAsUtf8(head: Uint8Array): Uint8Array {
  const bom = byteOrderMark(head);
  if (bom !== 'utf16le' && bom !== 'utf16be') return head;
  const even = head.subarray(0, head.length - (head.length % 2));
  return Buffer.from(new TextDecoder(LABELS[bom]).decode(even), 'utf8');
}

export interface TextDecodingOptions {
  /** Under `auto`, bytes that are not UTF-8 are read as Windows-1252 (CSV/TSV); JSON must be UTF-8. */
  readonly singleByteFallback: boolean;
  readonly source: string;
}

type Verdict = 'valid' | 'invalid' | 'incomplete';

/**
 * One file's bytes to UTF-8. Under `auto`, a byte order mark decides; without one the first bytes that are
 * not ASCII do: a UTF-8 character means UTF-8, anything else Windows-1252. The bytes before them are ASCII,
 * the same in both, so deciding mid-stream changes none of what was already passed on. A UTF-8 file
 * with a stray invalid byte later on stays UTF-8, and the row holding the byte is rejected, not the
 * whole file silently read as Windows-1252.
 */
export class TextDecoding {
  /** Undefined until decided; a file of ASCII alone ends as UTF-8. */
  private decided: TextEncoding | undefined;
  private decoder: TextDecoder | undefined;
  private bytesRead = 0;

  constructor(
    private readonly declared: DeclaredEncoding,
    private readonly options: TextDecodingOptions,
  ) {
    if (declared !== 'auto') this.decide(declared);
  }

  /** The encoding read (meaningful once the stream has ended). */
  get encoding(): TextEncoding {
    return this.decided ?? 'utf8';
  }

  async *decode(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    let first = true;
    let carry: Buffer | undefined;
    for await (const raw of chunks) {
      let chunk = carry === undefined ? raw : Buffer.concat([carry, raw]);
      carry = undefined;
      if (first) {
        // Too short to tell a byte order mark from text: wait for more (a mark is at most 3 bytes).
        if (chunk.length < UTF8_BOM.length) {
          carry = chunk;
          continue;
        }
        first = false;
        chunk = this.startWith(chunk);
      }
      if (this.decided === undefined) {
        const split = this.decideFrom(chunk);
        if (split.carry !== undefined) carry = split.carry;
        chunk = split.chunk;
      }
      const out = this.convert(chunk, false);
      this.bytesRead += chunk.length;
      if (out.length > 0) yield out;
    }
    if (carry !== undefined) {
      if (first) carry = this.startWith(carry);
      // A sequence cut off by the end of the file is not UTF-8.
      if (this.decided === undefined && !isAscii(carry)) {
        if (utf8SequenceAt(carry, firstNonAscii(carry)) === 'valid') this.decide('utf8');
        else this.decideInvalid();
      }
      const out = this.convert(carry, false);
      if (out.length > 0) yield out;
    }
    const rest = this.convert(Buffer.alloc(0), true);
    if (rest.length > 0) yield rest;
  }

  /** Reads the byte order mark: `auto` follows it; UTF-8's own is dropped when UTF-8 is read. */
  private startWith(chunk: Buffer): Buffer {
    const bom = byteOrderMark(chunk);
    if (this.declared === 'auto' && bom !== undefined) this.decide(bom);
    // TextDecoder drops a UTF-16 mark itself.
    return bom === 'utf8' && this.decided === 'utf8' ? chunk.subarray(UTF8_BOM.length) : chunk;
  }

  /** Under `auto` before a decision: what of the chunk to convert now, and what to keep for the next. */
  private decideFrom(chunk: Buffer): { chunk: Buffer; carry?: Buffer } {
    if (isAscii(chunk)) return { chunk };
    const at = firstNonAscii(chunk);
    const verdict = utf8SequenceAt(chunk, at);
    if (verdict === 'incomplete') return { chunk: chunk.subarray(0, at), carry: chunk.subarray(at) };
    if (verdict === 'valid') this.decide('utf8');
    else this.decideInvalid();
    return { chunk };
  }

  private decideInvalid(): void {
    this.decide(this.options.singleByteFallback ? 'windows1252' : 'utf8');
  }

  private decide(encoding: TextEncoding): void {
    this.decided = encoding;
    if (encoding === 'utf16le' || encoding === 'utf16be' || encoding === 'windows1252') {
      // The labels are WHATWG's, which TextDecoder takes; a single-byte decoding cannot fail.
      this.decoder = new TextDecoder(LABELS[encoding], { fatal: encoding !== 'windows1252' });
    }
  }

  private convert(chunk: Buffer, end: boolean): Buffer {
    if (this.decided === 'latin1') return Buffer.from(chunk.toString('latin1'), 'utf8');
    if (this.decoder === undefined) return chunk;
    try {
      return Buffer.from(this.decoder.decode(chunk, { stream: !end }), 'utf8');
    } catch {
      const label = encodingLabel(this.encoding);
      throw new FormatError(
        'invalid_utf16',
        `The file is not valid ${label} ${end ? 'at its end (an odd number of bytes, or half a character)' : `near byte ${this.bytesRead + 1}`}: ` +
          `it ${this.declared === 'auto' ? `starts with the ${label} byte order mark` : `is declared ${this.declared} in csv.encoding`} but holds bytes that are not ${label} text. ` +
          'Re-export it (as "CSV UTF-8" or "Unicode text"), or set csv.encoding to the encoding it is in.',
        { location: { source: this.options.source } },
      );
    }
  }
}

/** Where the first byte past ASCII is, in bytes known to hold one. */
function firstNonAscii(bytes: Uint8Array): number {
  let at = 0;
  while ((bytes[at] as number) < 0x80) at++;
  return at;
}

/** Whether a valid UTF-8 character (RFC 3629: no overlongs, no surrogates, at most U+10FFFF) starts at `at`. */
export function utf8SequenceAt(buf: Uint8Array, at: number): Verdict {
  const lead = buf[at] as number;
  let length: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead < 0x80) return 'valid';
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead === 0xe0) low = 0xa0;
    if (lead === 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f;
  } else return 'invalid';
  for (let i = 1; i < length; i++) {
    if (at + i >= buf.length) return 'incomplete';
    const byte = buf[at + i] as number;
    if (i === 1 ? byte < low || byte > high : byte < 0x80 || byte > 0xbf) return 'invalid';
  }
  return 'valid';
}
