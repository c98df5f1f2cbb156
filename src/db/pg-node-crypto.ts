/**
 * pg's password sign-in arithmetic (node_modules/pg/lib/crypto/utils.js) on node:crypto's own functions
 * instead of Web Crypto. The bundles put this file in the place of pg's (scripts/node-bundle.mjs,
 * pgNodeCrypto). pg 8.23 reaches Web Crypto through `crypto.webcrypto.subtle`: touching it loads a dozen more
 * of Node's built-in modules. Each of SCRAM's six steps is also a promise settled from the thread pool. Together
 * that is about 3 ms of every `inlet` command that signs in to PostgreSQL with a password (docs/benchmarks.md).
 * The functions are the ones pg used until its Web Crypto port. The one slow step, PBKDF2's 4,096 rounds or
 * more, still runs on the thread pool, so a server signing in many connections does not stall its event loop.
 *
 * Each function takes and returns what pg's own does, ArrayBuffers included. test/unit/db/pg-node-crypto.test.ts
 * runs pg's file beside this one and holds that they agree.
 */
import { createHash, createHmac, randomBytes as nodeRandomBytes, pbkdf2 } from 'node:crypto';

/** A digest as Web Crypto returns it: an ArrayBuffer of its own. */
function arrayBufferOf(digest: Buffer): ArrayBuffer {
  return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
}

/** Key bytes as pg passes them: an ArrayBuffer from a step before, or a Buffer. */
function bytesOf(key: ArrayBuffer | Uint8Array): Uint8Array {
  return key instanceof Uint8Array ? key : new Uint8Array(key);
}

export function randomBytes(length: number): Buffer {
  return nodeRandomBytes(length);
}

export async function md5(text: string | Buffer): Promise<string> {
  return createHash('md5').update(text).digest('hex');
}

/** PostgreSQL's `md5` password message (AuthenticationMD5Password in its protocol's flow). */
export async function postgresMd5PasswordHash(user: string, password: string, salt: Buffer): Promise<string> {
  const inner = await md5(password + user);
  const outer = await md5(Buffer.concat([Buffer.from(inner), salt]));
  return `md5${outer}`;
}

export function sha256(data: ArrayBuffer | Uint8Array): Promise<ArrayBuffer> {
  return hashByName('SHA-256', data);
}

/**
 * A digest named as Web Crypto names it (`SHA-256`), for SCRAM's channel binding: pg names the hash of the
 * server certificate's signature, SHA-256 for the MD5 and SHA-1 that RFC 5929 says to replace.
 */
export async function hashByName(hashName: string, data: ArrayBuffer | Uint8Array): Promise<ArrayBuffer> {
  const name = hashName.toLowerCase().replace('-', '');
  return arrayBufferOf(createHash(name).update(bytesOf(data)).digest());
}

export async function hmacSha256(key: ArrayBuffer | Uint8Array, message: string): Promise<ArrayBuffer> {
  return arrayBufferOf(createHmac('sha256', bytesOf(key)).update(message, 'utf8').digest());
}

/** SCRAM-SHA-256's salted password: PBKDF2 with HMAC-SHA-256, 32 bytes, on the thread pool. */
export function deriveKey(password: string, salt: Uint8Array, iterations: number): Promise<ArrayBuffer> {
  return new Promise((resolve, reject) => {
    pbkdf2(password, salt, iterations, 32, 'sha256', (error, key) => {
      if (error) reject(error);
      else resolve(arrayBufferOf(key));
    });
  });
}
