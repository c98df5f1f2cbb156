/**
 * src/db/pg-node-crypto.ts takes the place of pg's own sign-in arithmetic in the bundles. pg's file is the
 * reference: each function must return what it returns, for the same inputs, ArrayBuffers included.
 * A real sign-in through the replacement is in test/integration/cli/loaded-modules.test.ts, whose bundled
 * commands sign in to the test database with SCRAM-SHA-256.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import * as ours from '../../../src/db/pg-node-crypto.js';
import { seededRandom as seeded } from '../../harness/seeded-random.js';

type PgCrypto = typeof ours;
const pg = createRequire(import.meta.url)('pg/lib/crypto/utils.js') as PgCrypto;

/** The inputs are drawn from this seed, which each test's name carries, so that a failure replays. */
const SEED = 1607;

function bytes(random: () => number, length: number): Buffer {
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

/** Passwords and messages as a person or a server writes them, non-ASCII and lone surrogates too. */
function text(random: () => number): string {
  const alphabet = ['a', 'Z', '0', ' ', ',', '=', 'é', 'ß', '密', '码', '🔑', '\u00a0', '\ud800', '\u0000'];
  const length = 1 + Math.floor(random() * 24);
  return Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
}

describe('pg-node-crypto, beside pg/lib/crypto/utils.js', () => {
  it('exports every function pg does', () => {
    expect(Object.keys(ours).sort()).toEqual(Object.keys(pg).sort());
  });

  it(`derives SCRAM's salted password as pg does (seed ${SEED})`, async () => {
    const random = seeded(SEED);
    for (let i = 0; i < 12; i++) {
      const password = text(random);
      const salt = bytes(random, 1 + Math.floor(random() * 24));
      const iterations = 1 + Math.floor(random() * 5000);
      const mine = await ours.deriveKey(password, salt, iterations);
      expect(mine).toBeInstanceOf(ArrayBuffer);
      expect(Buffer.from(mine)).toEqual(Buffer.from(await pg.deriveKey(password, salt, iterations)));
    }
  });

  it(`computes SCRAM's keys, proofs and signatures as pg does (seed ${SEED})`, async () => {
    const random = seeded(SEED + 1);
    for (let i = 0; i < 20; i++) {
      // Each step takes the ArrayBuffer the step before returned, as sasl.js chains them.
      const salted = await pg.deriveKey(text(random), bytes(random, 16), 4096);
      const message = text(random);
      const clientKey = await ours.hmacSha256(salted, 'Client Key');
      expect(clientKey).toBeInstanceOf(ArrayBuffer);
      expect(Buffer.from(clientKey)).toEqual(Buffer.from(await pg.hmacSha256(salted, 'Client Key')));
      const stored = await ours.sha256(clientKey);
      expect(Buffer.from(stored)).toEqual(Buffer.from(await pg.sha256(clientKey)));
      expect(Buffer.from(await ours.hmacSha256(stored, message))).toEqual(
        Buffer.from(await pg.hmacSha256(stored, message)),
      );
      // Web Crypto refuses an empty HMAC key; SCRAM's keys are always 32 bytes.
      const key = bytes(random, 1 + Math.floor(random() * 100));
      expect(Buffer.from(await ours.hmacSha256(key, message))).toEqual(
        Buffer.from(await pg.hmacSha256(key, message)),
      );
    }
  });

  it('hashes a certificate for channel binding under every name pg passes', async () => {
    const certificate = bytes(seeded(SEED + 2), 900);
    for (const name of ['SHA-256', 'SHA-384', 'SHA-512']) {
      expect(Buffer.from(await ours.hashByName(name, certificate))).toEqual(
        Buffer.from(await pg.hashByName(name, certificate)),
      );
    }
  });

  it(`answers AuthenticationMD5Password as pg does (seed ${SEED})`, async () => {
    const random = seeded(SEED + 3);
    for (let i = 0; i < 20; i++) {
      const user = text(random);
      const password = text(random);
      const salt = bytes(random, 4);
      expect(await ours.postgresMd5PasswordHash(user, password, salt)).toBe(
        await pg.postgresMd5PasswordHash(user, password, salt),
      );
    }
  });

  it('draws client nonces as pg does: a Buffer of the length asked, different each time', () => {
    const first = ours.randomBytes(18);
    expect(first).toBeInstanceOf(Buffer);
    expect(first).toHaveLength(pg.randomBytes(18).length);
    expect(ours.randomBytes(18).equals(first)).toBe(false);
  });

  it('refuses what pg refuses: no iterations', async () => {
    await expect(pg.deriveKey('secret', Buffer.alloc(16), 0)).rejects.toThrow();
    await expect(ours.deriveKey('secret', Buffer.alloc(16), 0)).rejects.toThrow();
  });
});
