import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { type S3Error, s3Errors } from './errors.js';

/** Checks chunk and trailer signatures of a signed aws-chunked body; absent for unsigned streams. */
export interface ChunkSignatureVerifier {
  /** True when `signature` signs a chunk whose SHA-256 is `chunkSha256Hex`, chained to the previous one. */
  chunk(signature: string, chunkSha256Hex: string): boolean;
  trailer(signature: string, canonicalTrailer: string): boolean;
}

const MAX_LINE = 4096;
const CRLF = Buffer.from('\r\n');

type State = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

/**
 * Decodes an `aws-chunked` body (`<hex-size>[;chunk-signature=…]\r\n<data>\r\n … 0…\r\n<trailers>\r\n`) into its
 * payload, collecting trailing headers such as `x-amz-checksum-crc32`. Memory stays bounded by one line.
 */
export class AwsChunkedDecoder extends Transform {
  readonly trailers = new Map<string, string>();
  private state: State = 'header';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private decoded = 0;
  private chunkSignature: string | undefined;
  private chunkHash: Hash | undefined;
  private readonly verifier: ChunkSignatureVerifier | undefined;
  private readonly expectedLength: number | undefined;

  constructor(options: { verifier?: ChunkSignatureVerifier; decodedContentLength?: number } = {}) {
    super();
    this.verifier = options.verifier;
    this.expectedLength = options.decodedContentLength;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    try {
      this.consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    if (this.state !== 'done' && !(this.state === 'trailer' && this.line.length === 0)) {
      callback(s3Errors.incompleteBody('The aws-chunked body ended before its final chunk'));
      return;
    }
    if (this.expectedLength !== undefined && this.decoded !== this.expectedLength) {
      callback(s3Errors.incompleteBody());
      return;
    }
    callback();
  }

  private consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.state) {
        case 'header':
        case 'trailer': {
          const end = buf.indexOf(0x0a, pos);
          const piece = buf.subarray(pos, end === -1 ? buf.length : end + 1);
          this.line = Buffer.concat([this.line, piece]);
          pos += piece.length;
          if (this.line.length > MAX_LINE) throw malformed('chunk header too long');
          if (end === -1) break;
          const text = this.line
            .subarray(0, this.line.length - 1)
            .toString('latin1')
            .replace(/\r$/, '');
          this.line = Buffer.alloc(0);
          if (this.state === 'header') this.onHeader(text);
          else this.onTrailer(text);
          break;
        }
        case 'data': {
          const take = Math.min(this.remaining, buf.length - pos);
          const data = buf.subarray(pos, pos + take);
          this.chunkHash?.update(data);
          this.push(data);
          this.decoded += take;
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) this.state = 'data-crlf';
          break;
        }
        case 'data-crlf': {
          // The CRLF after data may be split across reads; collect its two bytes.
          const take = Math.min(2 - this.line.length, buf.length - pos);
          this.line = Buffer.concat([this.line, buf.subarray(pos, pos + take)]);
          pos += take;
          if (this.line.length === 2) {
            if (!this.line.equals(CRLF)) throw malformed('chunk data not followed by CRLF');
            this.line = Buffer.alloc(0);
            this.endChunk();
            this.state = 'header';
          }
          break;
        }
        case 'done':
          // Anything after the closing empty line is ignored, as S3 does.
          return;
      }
    }
  }

  private onHeader(text: string): void {
    const [sizeText = '', ...extensions] = text.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText.trim())) throw malformed(`bad chunk size "${sizeText}"`);
    const size = Number.parseInt(sizeText.trim(), 16);
    this.chunkSignature = undefined;
    for (const ext of extensions) {
      const [name, value] = ext.split('=');
      if (name?.trim() === 'chunk-signature') this.chunkSignature = value?.trim();
    }
    if (this.verifier !== undefined) {
      if (this.chunkSignature === undefined) throw s3Errors.signatureDoesNotMatch();
      this.chunkHash = createHash('sha256');
    }
    if (size === 0) {
      this.endChunk();
      this.state = 'trailer';
    } else {
      this.remaining = size;
      this.state = 'data';
    }
  }

  private endChunk(): void {
    if (this.verifier === undefined || this.chunkHash === undefined || this.chunkSignature === undefined)
      return;
    if (!this.verifier.chunk(this.chunkSignature, this.chunkHash.digest('hex')))
      throw s3Errors.signatureDoesNotMatch();
    this.chunkHash = undefined;
  }

  private onTrailer(text: string): void {
    if (text === '') {
      this.state = 'done';
      this.verifyTrailer();
      return;
    }
    const colon = text.indexOf(':');
    if (colon <= 0) throw malformed('bad trailing header');
    this.trailers.set(text.slice(0, colon).trim().toLowerCase(), text.slice(colon + 1).trim());
  }

  private verifyTrailer(): void {
    const signature = this.trailers.get('x-amz-trailer-signature');
    if (this.verifier === undefined || signature === undefined) return;
    const canonical = [...this.trailers]
      .filter(([name]) => name !== 'x-amz-trailer-signature')
      .map(([name, value]) => `${name}:${value}\n`)
      .join('');
    if (!this.verifier.trailer(signature, canonical)) throw s3Errors.signatureDoesNotMatch();
  }
}

function malformed(detail: string): S3Error {
  return s3Errors.incompleteBody(`The aws-chunked body is malformed: ${detail}`);
}
