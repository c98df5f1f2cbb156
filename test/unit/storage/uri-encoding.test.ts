import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { decodeKeyPath, encodeKeyPath } from '../../../src/storage/uri-encoding.js';

describe('encodeKeyPath', () => {
  it.each([
    ['plain/data.csv', 'plain/data.csv'],
    // What PostgreSQL text refuses never reaches it.
    ['nul\u0000.csv', 'nul%00.csv'],
    ['ctl\u0001\u001f\u007f.csv', 'ctl%01%1F%7F.csv'],
    ['100%.csv', '100%25.csv'],
    ['a b.csv', 'a%20b.csv'],
    ['a+b.csv', 'a%2Bb.csv'],
    ['ü/日本.csv', '%C3%BC/%E6%97%A5%E6%9C%AC.csv'],
    ['emoji 😀', 'emoji%20%F0%9F%98%80'],
    // The upload API's characters: encodeURIComponent's set, `/` kept between segments.
    ["keep-_.!~*'()", "keep-_.!~*'()"],
    ['#?&=;,:@$[]', '%23%3F%26%3D%3B%2C%3A%40%24%5B%5D'],
    ['a//b/', 'a//b/'],
    // Lone surrogates (no valid UTF-8 exists for them) take their WTF-8 bytes, so no two keys collide.
    ['lone\ud800', 'lone%ED%A0%80'],
    ['low\udfff', 'low%ED%BF%BF'],
  ])('encodes %j as %s', (key, encoded) => {
    expect(encodeKeyPath(key)).toBe(encoded);
  });

  it('agrees with encodeURIComponent per segment wherever that is defined', () => {
    const key = 'dir with space/ä+%\u0000#x/y';
    expect(encodeKeyPath(key)).toBe(key.split('/').map(encodeURIComponent).join('/'));
  });

  it('writes only printable ASCII, whatever the key', () => {
    let key = '';
    for (let unit = 0; unit < 0x800; unit++) key += String.fromCharCode(unit);
    key += '\ud800\udc00\ud800x\udc00';
    expect(encodeKeyPath(key)).toMatch(/^[\x21-\x7e]*$/);
  });

  it('stays within S3 limits: a 1024-byte key encodes to at most three times its bytes', () => {
    const key = 'é'.repeat(512);
    expect(Buffer.byteLength(key)).toBe(1024);
    expect(encodeKeyPath(key).length).toBe(3 * 1024);
  });
});

describe('decodeKeyPath', () => {
  it.each([
    'plain/data.csv',
    'nul\u0000.csv',
    '100%25 literally %.csv',
    'a+b c.csv',
    'ü/日本/😀',
    'lone\ud800 and \udfff',
    'pair\ud83d\ude00 split\ud83d',
    '',
  ])('round-trips %j', (key) => {
    expect(decodeKeyPath(encodeKeyPath(key))).toBe(key);
  });

  it('round-trips every code unit', () => {
    let key = '';
    for (let unit = 0; unit < 0x10000; unit += 7) key += String.fromCharCode(unit);
    expect(decodeKeyPath(encodeKeyPath(key))).toBe(key);
  });

  it.each([
    ['a%2', 'incomplete'],
    ['a%zz', 'incomplete'],
    ['%FF', 'UTF-8'],
    ['%C3', 'UTF-8'],
    ['%C0%80', 'UTF-8'],
  ])('refuses %s with a UsageError', (encoded, reason) => {
    let error: unknown;
    try {
      decodeKeyPath(encoded);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).code).toBe('invalid_key_encoding');
    expect((error as Error).message).toContain(reason);
  });
});
