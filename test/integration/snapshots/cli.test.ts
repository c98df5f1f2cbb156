/**
 * `inlet snapshot create | list | verify | restore | prune` through the real `inlet` process, on a
 * file:// target: the --json shapes of docs/snapshots.md, the exit codes (2 usage or config, 1 failure) and
 * the messages.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLines, runInlet } from '../../harness/cli.js';

let dir: string;
let env: NodeJS.ProcessEnv;
const inlet = (args: string[], extra: NodeJS.ProcessEnv = {}) => runInlet(args, { ...env, ...extra });

/** The --json object of `create` and of each `list` line as docs/snapshots.md documents it: its keys, in order. */
const SNAPSHOT_JSON_KEYS = ['id', 'createdAt', 'provider', 'files', 'bytes', 'bytesUploaded'];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-cli-snapshot-'));
  const entry = join(dir, 'spool', 'incoming', '0190e5a0-0000-7000-8000-000000000001');
  await mkdir(entry, { recursive: true });
  await mkdir(join(dir, 'spool', 'tmp'));
  await writeFile(join(entry, 'data'), 'order_id,amount\n1,2.50\n');
  await writeFile(join(entry, 'meta.json'), '{"name":"orders.csv"}');
  env = {
    ...process.env,
    INLET_DATA_DIR: join(dir, 'data'),
    INLET_SPOOL_DIR: join(dir, 'spool'),
    INLET_SNAPSHOT_TARGET: `file://${join(dir, 'snapshots')}`,
    INLET_SNAPSHOT_KEY: randomBytes(32).toString('base64'),
    NO_COLOR: '1',
  };
  for (const name of [
    'INLET_CONFIG',
    'INLET_SNAPSHOT_KEY_FILE',
    'INLET_SNAPSHOT_PROVIDER',
    'INLET_LOG_LEVEL',
  ])
    delete env[name];
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe.concurrent('inlet snapshot: help and refusals', () => {
  it('documents every subcommand with examples', async () => {
    const run = await inlet(['snapshot', '--help']);
    expect(run.code).toBe(0);
    for (const sub of ['create', 'list', 'verify', 'restore', 'prune']) expect(run.stdout).toContain(sub);
    expect(run.stdout).toMatch(/Examples:[\s\S]*inlet snapshot restore \S+ --to /);
  });

  it('exits 2 with what to set when the key is missing', async () => {
    const run = await inlet(['snapshot', 'create', '--json'], { INLET_SNAPSHOT_KEY: '' });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(/archive snapshots need a key .*openssl rand -base64 32.*INLET_SNAPSHOT_KEY/);
    expect(run.stdout).toBe('');
  });

  it('exits 2 for a bad --keep value', async () => {
    const keep = await inlet(['snapshot', 'prune', '--keep-last', 'many']);
    expect(keep.code).toBe(2);
    expect(keep.stderr).toMatch(/expected a whole number/);
  });
});

describe('inlet snapshot: create, list, verify, restore, prune', () => {
  const ids: string[] = [];

  it('create --json prints exactly the documented object', async () => {
    for (let i = 0; i < 2; i++) {
      const run = await inlet(['snapshot', 'create', '--json']);
      expect(run.code, run.stderr).toBe(0);
      const [created] = jsonLines(run.stdout);
      expect(Object.keys(created ?? {})).toEqual(SNAPSHOT_JSON_KEYS);
      expect(created).toMatchObject({ provider: 'archive', files: 2, bytes: 44 });
      ids.push(created?.id as string);
    }
    const list = await inlet(['snapshot', 'list', '--json']);
    const listed = jsonLines(list.stdout);
    expect(listed.map((s) => s.id)).toEqual(ids);
    expect(Object.keys(listed[0] ?? {})).toEqual(SNAPSHOT_JSON_KEYS);
    // Both files are small enough to travel inside the manifest: each snapshot uploads about a kilobyte.
    for (const snapshot of listed) expect(snapshot.bytesUploaded as number).toBeLessThan(4096);
  });

  it('verifies and restores, refusing a non-empty target with exit 2', async () => {
    const id = ids[0] as string;
    const verify = await inlet(['snapshot', 'verify', id]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(new RegExp(`snapshot ${id} is intact: 2 files`));
    const to = join(dir, 'restored');
    const restore = await inlet(['snapshot', 'restore', id, '--to', to, '--json']);
    expect(restore.code, restore.stderr).toBe(0);
    expect(jsonLines(restore.stdout)[0]).toMatchObject({ id, dir: to, files: 2, bytes: 44 });
    expect(await readFile(join(to, 'incoming', '0190e5a0-0000-7000-8000-000000000001', 'data'), 'utf8')).toBe(
      'order_id,amount\n1,2.50\n',
    );
    expect(await readdir(join(to, 'tmp'))).toEqual([]);
    const again = await inlet(['snapshot', 'restore', id, '--to', to]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is not empty .*--force/);
  });

  it('exits 1 naming the problem for an unknown id and a wrong key', async () => {
    const [unknown, wrong] = await Promise.all([
      inlet(['snapshot', 'verify', '20200101T000000.000Z-00000000']),
      inlet(['snapshot', 'list'], { INLET_SNAPSHOT_KEY: randomBytes(32).toString('base64') }),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(
      /there is no snapshot 20200101T000000.000Z-00000000 .*inlet snapshot list/,
    );
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/snapshot key does not open the snapshots/);
  });

  it('prune --json reports what retention deleted', async () => {
    const run = await inlet([
      'snapshot',
      'prune',
      '--keep-last',
      '1',
      '--keep-daily',
      '0',
      '--keep-weekly',
      '0',
      '--keep-monthly',
      '0',
      '--json',
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([
      { dryRun: false, kept: [ids[1]], deleted: [ids[0]], chunksDeleted: 0, bytesFreed: 0 },
    ]);
  });
});
