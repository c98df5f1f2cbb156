import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { DEV_KEY_FILE, loadSnapshotKey, parseKey } from '../../../src/snapshots/key.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-key-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const KEY = randomBytes(32);

describe('loadSnapshotKey', () => {
  it('takes the key (INLET_SNAPSHOT_KEY) first, in either base64 alphabet', async () => {
    for (const text of [KEY.toString('base64'), KEY.toString('base64url')]) {
      const loaded = await loadSnapshotKey({
        key: text,
        dataDir: dir,
        generate: false,
      });
      expect(loaded.key.equals(KEY)).toBe(true);
      expect(loaded.origin).toBe('INLET_SNAPSHOT_KEY');
    }
  });

  it('says what is wrong with a key that is not 32 bytes of base64', () => {
    expect(() => parseKey('c2hvcnQ=', 'INLET_SNAPSHOT_KEY')).toThrow(/base64 of 32 bytes .* got 5 bytes/);
    expect(() => parseKey('not base64 at all!', 'INLET_SNAPSHOT_KEY')).toThrow(/text that is not base64/);
  });

  it('reads the key file (INLET_SNAPSHOT_KEY_FILE)', async () => {
    const file = join(dir, 'named.key');
    await writeFile(file, `${KEY.toString('base64')}\n`, { mode: 0o600 });
    const loaded = await loadSnapshotKey({
      keyFile: file,
      dataDir: dir,
      generate: false,
    });
    expect(loaded.key.equals(KEY)).toBe(true);
    expect(loaded.origin).toContain(file);
  });

  it('requires a key outside inlet dev, with a message that says how to make one', async () => {
    const error = await loadSnapshotKey({ dataDir: join(dir, 'empty'), generate: false }).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'snapshot_key_missing' });
    expect(error.message).toMatch(/openssl rand -base64 32.*INLET_SNAPSHOT_KEY/);
  });

  it('under inlet dev generates a key once, mode 0600, and reuses it', async () => {
    const dataDir = join(dir, 'dev');
    const first = await loadSnapshotKey({ dataDir, generate: true });
    const file = join(dataDir, DEV_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(first.key).toHaveLength(32);
    const again = await loadSnapshotKey({ dataDir, generate: true });
    expect(again.key.equals(first.key)).toBe(true);
    // The CLI, which never generates, finds the key dev made.
    const cli = await loadSnapshotKey({ dataDir, generate: false });
    expect(cli.key.equals(first.key)).toBe(true);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.key.toString('base64'));
  });

  it('refuses a key file inside the spool or the snapshot target', async () => {
    const spool = join(dir, 'spool');
    await mkdir(spool, { recursive: true });
    const file = join(spool, 'snapshot.key');
    await writeFile(file, KEY.toString('base64'));
    const error = await loadSnapshotKey({
      keyFile: file,
      dataDir: dir,
      generate: false,
      forbiddenDirs: [spool],
    }).catch((e) => e);
    expect(error).toMatchObject({ code: 'snapshot_key_beside_data' });
  });
});
