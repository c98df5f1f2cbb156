/**
 * How every front door writes an object's key into its source URI, the identity the ledger keeps: each
 * `/`-separated segment percent-encoded as UTF-8 with encodeURIComponent's set (the upload API's encoding,
 * which existing `upload:///` rows use). The result is printable ASCII, so PostgreSQL text takes any key
 * (a NUL byte included), and injective, so two keys never share a ledger identity.
 */
import { UsageError } from '../errors.js';

/** encodeURIComponent leaves these as they are. */
const KEPT = /[A-Za-z0-9\-_.!~*'()]/;

export function encodeKeyPath(key: string): string {
  let out = '';
  for (let i = 0; i < key.length; i++) {
    const unit = key.charCodeAt(i);
    const char = key[i] as string;
    if (char === '/' || KEPT.test(char)) {
      out += char;
      continue;
    }
    let codePoint = unit;
    const low = key.charCodeAt(i + 1);
    if (unit >= 0xd800 && unit <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) {
      codePoint = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
      i++;
    }
    // A lone surrogate has no UTF-8 form (encodeURIComponent throws on it); its generalized (WTF-8) bytes
    // keep the encoding total and reversible. Keys decoded from JSON events can hold one.
    for (const byte of utf8Bytes(codePoint)) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The key `encodeKeyPath` encoded; lone surrogates come back as they went in. */
export function decodeKeyPath(encoded: string): string {
  let out = '';
  for (let i = 0; i < encoded.length; ) {
    if (encoded[i] !== '%') {
      out += encoded[i];
      i++;
      continue;
    }
    const bytes: number[] = [];
    while (encoded[i] === '%') {
      const hex = encoded.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        throw invalid(encoded, `"${encoded.slice(i, i + 3)}" is an incomplete percent-escape`);
      }
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    }
    out += fromUtf8(bytes, encoded);
  }
  return out;
}

function utf8Bytes(codePoint: number): number[] {
  if (codePoint < 0x80) return [codePoint];
  if (codePoint < 0x800) return [0xc0 | (codePoint >> 6), 0x80 | (codePoint & 0x3f)];
  if (codePoint < 0x10000) {
    return [0xe0 | (codePoint >> 12), 0x80 | ((codePoint >> 6) & 0x3f), 0x80 | (codePoint & 0x3f)];
  }
  return [
    0xf0 | (codePoint >> 18),
    0x80 | ((codePoint >> 12) & 0x3f),
    0x80 | ((codePoint >> 6) & 0x3f),
    0x80 | (codePoint & 0x3f),
  ];
}

/** Strict UTF-8 (shortest forms only, nothing past U+10FFFF), except that surrogates are let through. */
function fromUtf8(bytes: number[], encoded: string): string {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const lead = bytes[i] as number;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : 4;
    if (lead >= 0x80 && (lead < 0xc2 || lead > 0xf4)) throw notUtf8(encoded);
    let codePoint = length === 1 ? lead : lead & (0xff >> (length + 1));
    for (let k = 1; k < length; k++) {
      const next = bytes[i + k];
      if (next === undefined || (next & 0xc0) !== 0x80) throw notUtf8(encoded);
      codePoint = (codePoint << 6) | (next & 0x3f);
    }
    const shortest = [0, 0, 0x80, 0x800, 0x10000][length] as number;
    if (codePoint < shortest || codePoint > 0x10ffff) throw notUtf8(encoded);
    out += String.fromCodePoint(codePoint);
    i += length;
  }
  return out;
}

function notUtf8(encoded: string): UsageError {
  return invalid(encoded, 'its percent-escapes are not UTF-8');
}

function invalid(encoded: string, reason: string): UsageError {
  return new UsageError(
    'invalid_key_encoding',
    `cannot decode the key in ${JSON.stringify(encoded)}: ${reason}. Source URIs in the ledger are written by ` +
      'encodeKeyPath; pass the key as it is in the bucket instead.',
  );
}
