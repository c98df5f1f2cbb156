import { describe, expect, it } from 'vitest';
import { chunkName, deriveKeys, SEAL_OVERHEAD, seal, unseal } from '../../../src/snapshots/archive/crypto.js';
import { SnapshotError } from '../../../src/snapshots/errors.js';

const salt = Buffer.alloc(32, 3);
const keys = deriveKeys(Buffer.alloc(32, 1), salt);
const otherKeys = deriveKeys(Buffer.alloc(32, 2), salt);
const plaintext = Buffer.from('order_id,amount\n1,2.50\n');

function failure(fn: () => unknown): SnapshotError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SnapshotError);
    return error as SnapshotError;
  }
  throw new Error('expected a failure');
}

describe('archive crypto', () => {
  it('round-trips, with a fresh nonce each time', () => {
    const name = chunkName(keys, plaintext);
    const a = seal(keys, 'chunk', name, plaintext);
    const b = seal(keys, 'chunk', name, plaintext);
    expect(a.equals(b)).toBe(false);
    expect(a.length).toBe(plaintext.length + SEAL_OVERHEAD);
    expect(unseal(keys, 'chunk', name, a, 'x').equals(plaintext)).toBe(true);
    // Large manifests are compressed before sealing.
    const manifest = Buffer.from(
      JSON.stringify({ files: Array.from({ length: 200 }, (_, i) => ({ path: `done/${i}` })) }),
    );
    const sealed = seal(keys, 'manifest', 'id', manifest);
    expect(sealed.length).toBeLessThan(manifest.length);
    expect(unseal(keys, 'manifest', 'id', sealed, 'x').equals(manifest)).toBe(true);
  });

  it('names chunks by a keyed hash: same content same name, nothing a stranger can compute', () => {
    expect(chunkName(keys, plaintext)).toMatch(/^[0-9a-f]{64}$/);
    expect(chunkName(keys, plaintext)).toBe(chunkName(keys, Buffer.from(plaintext)));
    expect(chunkName(otherKeys, plaintext)).not.toBe(chunkName(keys, plaintext));
  });

  it("refuses a flipped bit, another object's name, another kind and another key", () => {
    const name = chunkName(keys, plaintext);
    const sealed = seal(keys, 'chunk', name, plaintext);
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 20] = (flipped[flipped.length - 20] as number) ^ 1;
    expect(failure(() => unseal(keys, 'chunk', name, flipped, `chunk ${name}`)).message).toMatch(
      new RegExp(`chunk ${name} failed authentication`),
    );
    expect(failure(() => unseal(keys, 'chunk', 'f'.repeat(64), sealed, 'moved chunk')).code).toBe(
      'chunk_tampered',
    );
    expect(failure(() => unseal(keys, 'manifest', name, sealed, 'as manifest')).code).toBe(
      'manifest_tampered',
    );
    expect(failure(() => unseal(otherKeys, 'chunk', name, sealed, 'other key')).code).toBe('chunk_tampered');
    expect(failure(() => unseal(keys, 'chunk', name, Buffer.from('not sealed'), 'junk')).message).toMatch(
      /not an Inlet snapshot object/,
    );
  });

  it('derives a key check that differs per key and per salt', () => {
    expect(keys.check).not.toBe(otherKeys.check);
    expect(deriveKeys(Buffer.alloc(32, 1), Buffer.alloc(32, 4)).check).not.toBe(keys.check);
    expect(deriveKeys(Buffer.alloc(32, 1), salt).check).toBe(keys.check);
  });
});
