import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createDigest } from '../../../src/gateway/checksums.js';
import { AwsChunkedDecoder } from '../../../src/gateway/chunked.js';
import { encodeEventKey, Sequencer } from '../../../src/gateway/events.js';

async function decode(body: Buffer, pieceSize: number, decoder = new AwsChunkedDecoder()): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += pieceSize) pieces.push(body.subarray(i, i + pieceSize));
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(pieces).pipe(decoder)) out.push(chunk as Buffer);
  return Buffer.concat(out);
}

describe('AwsChunkedDecoder', () => {
  const framed = Buffer.from('5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n');

  it('decodes unsigned chunks with a trailer, however the bytes are split', async () => {
    for (const size of [1, 2, 3, 7, 1000]) {
      const decoder = new AwsChunkedDecoder({ decodedContentLength: 11 });
      expect((await decode(framed, size, decoder)).toString()).toBe('hello world');
      expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
    }
  });

  it('reads chunk-signature extensions and hands them to the verifier', async () => {
    const seen: string[] = [];
    const verifier = {
      chunk: (signature: string) => {
        seen.push(signature);
        return true;
      },
      trailer: () => true,
    };
    const body = Buffer.from('3;chunk-signature=aaa\r\nabc\r\n0;chunk-signature=bbb\r\n\r\n');
    expect((await decode(body, 4, new AwsChunkedDecoder({ verifier }))).toString()).toBe('abc');
    expect(seen).toEqual(['aaa', 'bbb']);
  });

  it('fails on a truncated body, a length mismatch, a bad size line or a rejected signature', async () => {
    await expect(decode(Buffer.from('5\r\nhel'), 100)).rejects.toMatchObject({ s3Code: 'IncompleteBody' });
    await expect(
      decode(framed, 100, new AwsChunkedDecoder({ decodedContentLength: 12 })),
    ).rejects.toMatchObject({
      s3Code: 'IncompleteBody',
    });
    await expect(decode(Buffer.from('zz\r\n'), 100)).rejects.toMatchObject({ s3Code: 'IncompleteBody' });
    const verifier = { chunk: () => false, trailer: () => true };
    await expect(
      decode(
        Buffer.from('1;chunk-signature=x\r\na\r\n0;chunk-signature=y\r\n\r\n'),
        100,
        new AwsChunkedDecoder({ verifier }),
      ),
    ).rejects.toMatchObject({ s3Code: 'SignatureDoesNotMatch' });
  });
});

describe('checksums', () => {
  it('matches the standard check values for "123456789"', () => {
    const check = (algorithm: Parameters<typeof createDigest>[0]) => {
      const digest = createDigest(algorithm);
      digest.update(Buffer.from('123456789'));
      return Buffer.from(digest.digest(), 'base64').toString('hex');
    };
    expect(check('crc32')).toBe('cbf43926');
    expect(check('crc32c')).toBe('e3069283');
    expect(check('crc64nvme')).toBe('ae8b14860a799888');
  });
});

describe('event keys and sequencers', () => {
  it('encodes keys as S3 does in event notifications', () => {
    expect(encodeEventKey('a b c.csv')).toBe('a+b+c.csv');
    expect(encodeEventKey('a+b c.csv')).toBe('a%2Bb+c.csv');
    expect(encodeEventKey('dir/ü(1).csv')).toBe('dir/%C3%BC%281%29.csv');
  });

  it('issues increasing fixed-width sequencers', () => {
    const sequencer = new Sequencer();
    const values = Array.from({ length: 1000 }, () => sequencer.next());
    expect(new Set(values.map((v) => v.length))).toEqual(new Set([18]));
    expect([...values].sort()).toEqual(values);
    expect(new Set(values).size).toBe(1000);
  });
});
