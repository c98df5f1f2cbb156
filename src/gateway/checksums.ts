import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';

/** The flexible checksums S3 verifies, by the suffix of their `x-amz-checksum-*` header. */
export type ChecksumAlgorithm = 'crc32' | 'crc32c' | 'crc64nvme' | 'sha1' | 'sha256';
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = [
  'crc32',
  'crc32c',
  'crc64nvme',
  'sha1',
  'sha256',
];

export function isChecksumAlgorithm(value: string): value is ChecksumAlgorithm {
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(value);
}

interface Digest {
  update(data: Buffer): void;
  /** Base64 of the big-endian digest, as S3 prints checksums. */
  digest(): string;
}

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

const CRC64NVME_TABLE = (() => {
  const poly = 0x9a6c9329ac4bc9b5n;
  const table: bigint[] = [];
  for (let i = 0n; i < 256n; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1n ? poly ^ (c >> 1n) : c >> 1n;
    table.push(c);
  }
  return table;
})();

function u32Base64(value: number): string {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

function hashDigest(algorithm: string): Digest {
  const hash: Hash = createHash(algorithm);
  return { update: (d) => hash.update(d), digest: () => hash.digest('base64') };
}

export function createDigest(algorithm: ChecksumAlgorithm): Digest {
  switch (algorithm) {
    case 'crc32': {
      let crc = 0;
      return {
        update: (d) => {
          crc = zlib.crc32(d, crc);
        },
        digest: () => u32Base64(crc),
      };
    }
    case 'crc32c': {
      let crc = 0xffffffff;
      return {
        update: (d) => {
          for (const byte of d) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
        },
        digest: () => u32Base64(crc ^ 0xffffffff),
      };
    }
    case 'crc64nvme': {
      // BigInt is slow, but the default SDK algorithm is CRC32; this keeps the rare CRC64 uploads verifiable.
      let crc = 0xffffffffffffffffn;
      return {
        update: (d) => {
          for (const byte of d) crc = CRC64NVME_TABLE[Number((crc ^ BigInt(byte)) & 0xffn)]! ^ (crc >> 8n);
        },
        digest: () => {
          const out = Buffer.alloc(8);
          out.writeBigUInt64BE(crc ^ 0xffffffffffffffffn);
          return out.toString('base64');
        },
      };
    }
    case 'sha1':
      return hashDigest('sha1');
    case 'sha256':
      return hashDigest('sha256');
  }
}

export interface BodyDigests {
  size: number;
  md5Hex: string;
  md5Base64: string;
  sha256Hex: string | undefined;
  checksums: Partial<Record<ChecksumAlgorithm, string>>;
}

/**
 * A pass-through that counts and hashes what flows through it, so a body is verified while it is written to
 * disk instead of being held in memory.
 */
export class DigestingStream extends Transform {
  private size = 0;
  private readonly md5 = createHash('md5');
  private readonly sha256: Hash | undefined;
  private readonly digests: Array<[ChecksumAlgorithm, Digest]>;
  private result: BodyDigests | undefined;

  constructor(options: { algorithms?: Iterable<ChecksumAlgorithm>; sha256Hex?: boolean } = {}) {
    super();
    this.sha256 = options.sha256Hex ? createHash('sha256') : undefined;
    this.digests = [...new Set(options.algorithms ?? [])].map((a) => [a, createDigest(a)]);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    for (const [, d] of this.digests) d.update(chunk);
    callback(null, chunk);
  }

  /** Valid once the stream has ended. */
  get digestsResult(): BodyDigests {
    if (this.result === undefined) {
      const md5 = this.md5.digest();
      this.result = {
        size: this.size,
        md5Hex: md5.toString('hex'),
        md5Base64: md5.toString('base64'),
        sha256Hex: this.sha256?.digest('hex'),
        checksums: Object.fromEntries(this.digests.map(([a, d]) => [a, d.digest()])),
      };
    }
    return this.result;
  }
}
