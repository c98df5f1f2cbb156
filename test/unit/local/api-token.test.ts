/**
 * The local stack's bootstrap token (src/local/api-token.ts): INLET_API_TOKEN when set, else one generated on
 * the first start and kept, the same for every start after it, and for starts that race on the first.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localApiToken } from '../../../src/local/api-token.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-api-token-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('localApiToken', () => {
  it('takes INLET_API_TOKEN when it is set, and writes nothing', async () => {
    const data = await mkdtemp(join(dir, 'env-'));
    expect(await localApiToken(data, '  from-env  ')).toBe('from-env');
    expect(await readdir(data)).toEqual([]);
  });

  it('generates one on the first start and gives the same one to every start after', async () => {
    const data = await mkdtemp(join(dir, 'kept-'));
    const first = await localApiToken(data, undefined);
    expect(first).toMatch(/^inlet_dev_[\w-]{32}$/);
    expect(await localApiToken(data, '')).toBe(first);
    expect((await readFile(join(data, 'api-token'), 'utf8')).trim()).toBe(first);
  });

  it('gives starts that race on the first one token, the one kept', async () => {
    const data = await mkdtemp(join(dir, 'race-'));
    const tokens = await Promise.all(Array.from({ length: 10 }, () => localApiToken(data, undefined)));
    expect(new Set(tokens).size).toBe(1);
    expect((await readFile(join(data, 'api-token'), 'utf8')).trim()).toBe(tokens[0]);
    expect(await readdir(data)).toEqual(['api-token']);
  });
});
