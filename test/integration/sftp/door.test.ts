/**
 * The SFTP door end to end with the real OpenSSH client (`sftp -b`), the host key pinned: a put is loaded
 * once, its result and rejected rows appear under /outbound and match the ledger, the same bytes again are
 * a duplicate, and /inbound lists what was received.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../../src/server/sftp/password.js';
import { addUser } from '../../../src/server/sftp/users.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { addSftpUser, type KeyPair, sftpBatch, sftpWorkspace, sshConnect } from '../../harness/sftp.js';
import { allEntryIds, until } from '../../harness/upload-client.js';
import { api, type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

const work = sftpWorkspace();
const MAX_BYTES = 256 * 1024;
let db: TestDatabase;
let running: RunningService;
let key: KeyPair;
let knownHosts: string;
let port: number;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA up');
  const hostKeyFile = path.join(work.dir, 'host_key');
  running = await runService(db, uploadConfig('up'), {
    maxUploadBytes: MAX_BYTES,
    sftp: { port: 0, hostKeyFile, maxSessionsPerUser: 10, idleTimeoutMs: 60_000 },
  });
  port = running.service.sftp?.port as number;
  knownHosts = work.knownHosts(hostKeyFile, port);
  key = work.keygen('acme_ed25519');
  await addSftpUser(db.pool, 'acme', ['orders'], [key]);
});

afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

const batch = (commands: string[]) =>
  sftpBatch({ port, user: 'acme', key, knownHosts, commands, cwd: work.dir });

async function ledgerRow(sourceUri: string) {
  return until(`a final ledger row for ${sourceUri}`, async () => {
    const { rows } = await db.pool.query(
      `SELECT id::text, status, rows_loaded::int, rows_rejected::int FROM inlet.ingestions
        WHERE source_uri = $1 AND status NOT IN ('queued', 'processing') ORDER BY received_at DESC LIMIT 1`,
      [sourceUri],
    );
    return rows[0] as { id: string; status: string; rows_loaded: number; rows_rejected: number } | undefined;
  });
}

describe('the SFTP door with OpenSSH', () => {
  it('loads a put file once, hands back its result, and calls the same bytes again a duplicate', async () => {
    work.file('2026-12-01.csv', 'id,amount,note\n1,10.50,first\n2,20.00,second\n');
    const put = await batch(['put 2026-12-01.csv /inbound/orders/']);
    expect(put.stderr).toBe('');
    expect(put.code).toBe(0);
    const row = await ledgerRow('sftp://acme/inbound/orders/2026-12-01.csv');
    expect(row).toMatchObject({ status: 'loaded', rows_loaded: 2, rows_rejected: 0 });

    const got = await batch([
      'get /outbound/orders/2026-12-01.csv.result.json result.json',
      'ls -l /inbound/orders',
    ]);
    expect(got.code).toBe(0);
    const result = JSON.parse(await readFile(path.join(work.dir, 'result.json'), 'utf8'));
    const fromApi = await (await api(running.service, `/v1/ingestions/${row.id}`)).json();
    expect(result).toEqual(fromApi);
    expect(result).toMatchObject({
      id: row.id,
      status: 'loaded',
      rowsLoaded: 2,
      source: 'sftp://acme/inbound/orders/2026-12-01.csv',
    });
    expect(got.stdout).toMatch(/ 44 [\d-]+ [\d:]+ 2026-12-01\.csv\n/);

    const again = await batch(['put 2026-12-01.csv /inbound/orders/']);
    expect(again.code).toBe(0);
    await until('the duplicate', async () => {
      const { rows } = await db.pool.query(
        "SELECT status FROM inlet.ingestions WHERE source_uri = $1 AND status = 'duplicate'",
        ['sftp://acme/inbound/orders/2026-12-01.csv'],
      );
      return rows[0];
    });
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM up.orders WHERE id IN (1, 2)');
    expect(rows[0].n).toBe(2);
  });
});

/** Runs `act` and checks that it left nothing: no spool entry in any state, no ledger row. */
async function expectNothingStored(act: () => Promise<void>): Promise<void> {
  const entries = await allEntryIds(running.spoolDir);
  const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM inlet.ingestions');
  await act();
  await sleep(200);
  expect(await allEntryIds(running.spoolDir)).toEqual(entries);
  const after = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM inlet.ingestions');
  expect(after.rows[0]?.n).toBe(rows[0]?.n);
}

describe('rejected rows', () => {
  it('hands back <name>.rejects.csv, the API CSV with formula cells escaped', async () => {
    work.file('with-rejects.csv', 'id,amount,note\n11,1.00,ok\n12,=HYPERLINK("x"),bad\n13,3.00,ok\n');
    expect((await batch(['put with-rejects.csv /inbound/orders/'])).code).toBe(0);
    const row = await ledgerRow('sftp://acme/inbound/orders/with-rejects.csv');
    expect(row).toMatchObject({ status: 'loaded', rows_loaded: 2, rows_rejected: 1 });
    const got = await batch([
      'get /outbound/orders/with-rejects.csv.rejects.csv rejects.csv',
      'ls -1 /outbound/orders',
    ]);
    expect(got.code).toBe(0);
    const csv = await readFile(path.join(work.dir, 'rejects.csv'), 'utf8');
    const fromApi = await (await api(running.service, `/v1/ingestions/${row.id}/rejects?format=csv`)).text();
    expect(csv).toBe(fromApi);
    expect(csv).toContain(`"'=HYPERLINK(""x"")"`);
    expect(got.stdout).toContain('with-rejects.csv.result.json');
    expect(got.stdout).toContain('with-rejects.csv.rejects.csv');
    expect(got.stdout).not.toContain('2026-12-01.csv.rejects.csv');
  });
});

describe('refusals with OpenSSH, each leaving nothing behind', () => {
  const refusals: [string, string[], RegExp][] = [
    [
      'a pipeline the user may not write',
      ['put small.csv /inbound/events/small.ndjson'],
      /Permission denied/,
    ],
    ['a path outside the tree', ['put small.csv /etc/passwd'], /No such file/],
    ['a path climbing out with ..', ['put small.csv /inbound/orders/../../small.csv'], /Permission denied/],
    [
      'a subfolder of an inbound folder',
      ['put small.csv /inbound/orders/sub/small.csv'],
      /Permission denied/,
    ],
    ['a write into /outbound', ['put small.csv /outbound/orders/small.csv'], /Permission denied/],
    ['a folder made', ['mkdir /inbound/orders/sub'], /Permission denied|Failure/],
    ['a PNG into a CSV pipeline', ['put picture.png /inbound/orders/picture.csv'], /Failure|failed/],
    ['a file past the size limit', ['put big.csv /inbound/orders/big.csv'], /Failure|failed/],
    [
      'a resumed put (reput)',
      ['reput small.csv /inbound/orders/2026-12-01.csv'],
      /unsupported|Failure|failed/i,
    ],
  ];

  beforeAll(() => {
    work.file('small.csv', 'id,amount,note\n21,1.00,x\n');
    work.file(
      'picture.png',
      Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(20_000, 7)]),
    );
    const rows = ['id,amount,note'];
    for (let i = 0; Buffer.byteLength(rows.join('\n')) <= MAX_BYTES; i++)
      rows.push(`${1000 + i},1.00,filler filler`);
    work.file('big.csv', `${rows.join('\n')}\n`);
  });

  it.each(refusals)('%s', async (_what, commands, says) => {
    await expectNothingStored(async () => {
      const run = await batch(commands);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(says);
    });
  });

  it('renames and removes of received files, and reads of them', async () => {
    await expectNothingStored(async () => {
      for (const command of [
        'rename /inbound/orders/2026-12-01.csv /inbound/orders/renamed.csv',
        'rm /inbound/orders/2026-12-01.csv',
        'get /inbound/orders/2026-12-01.csv copy.csv',
        'rm /outbound/orders/2026-12-01.csv.result.json',
      ]) {
        const run = await batch([command]);
        expect(run.code, command).not.toBe(0);
        expect(run.stderr, command).toMatch(/Permission denied/);
      }
    });
    const ls = await batch(['ls -1 /inbound/orders']);
    expect(ls.stdout).toContain('2026-12-01.csv');
  });
});

describe("a file put under a temporary name, then renamed (WinSCP's .filepart, scripts' .tmp)", () => {
  const stagingDir = () => path.join(running.spoolDir, 'sftp-staging');
  const staged = async () => readdir(stagingDir());

  it('is queued by the rename, under its final name, and nothing under the temporary one', async () => {
    work.file('2026-12-02.csv', 'id,amount,note\n41,4.10,staged\n42,4.20,staged\n');
    const run = await batch([
      'put 2026-12-02.csv /inbound/orders/2026-12-02.csv.filepart',
      'ls -l /inbound/orders/2026-12-02.csv.filepart',
      'rename /inbound/orders/2026-12-02.csv.filepart /inbound/orders/2026-12-02.csv',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // Seen while staged, with its size.
    expect(run.stdout).toMatch(/ 45 .+ \/inbound\/orders\/2026-12-02\.csv\.filepart\n/);
    const row = await ledgerRow('sftp://acme/inbound/orders/2026-12-02.csv');
    expect(row).toMatchObject({ status: 'loaded', rows_loaded: 2 });
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n FROM inlet.ingestions WHERE source_uri LIKE '%.filepart'",
    );
    expect(rows[0].n).toBe(0);
    expect(await staged()).toEqual([]);
  });

  it('may be resumed (reput) under its temporary name before the rename', async () => {
    // ~200 KB, so that the resumed part goes as many WRITEs in flight at once, each appended in turn.
    const lines = ['id,amount,note'];
    for (let i = 0; i < 5000; i++) lines.push(`${100_000 + i},1.00,resumed row ${i}`);
    const whole = `${lines.join('\n')}\n`;
    work.file('resumed-head.csv', whole.slice(0, 50_000));
    work.file('resumed.csv', whole);
    const run = await batch([
      'put resumed-head.csv /inbound/orders/resumed.csv.filepart',
      'reput resumed.csv /inbound/orders/resumed.csv.filepart',
      'rename /inbound/orders/resumed.csv.filepart /inbound/orders/resumed.csv',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const row = await ledgerRow('sftp://acme/inbound/orders/resumed.csv');
    expect(row).toMatchObject({ status: 'loaded', rows_loaded: 5000, rows_rejected: 0 });
    const { rows } = await db.pool.query(
      "SELECT count(*)::int AS n, count(DISTINCT note)::int AS notes FROM up.orders WHERE id >= 100000 AND note LIKE 'resumed row %'",
    );
    expect(rows[0]).toEqual({ n: 5000, notes: 5000 });
  });

  it('leaves nothing when the session ends before the rename', async () => {
    work.file('never.csv', 'id,amount,note\n43,4.30,never\n');
    await expectNothingStored(async () => {
      const run = await batch(['put never.csv /inbound/orders/never.csv.tmp']);
      expect(run.code).toBe(0);
    });
    await until('the staged file deleted', async () => ((await staged()).length === 0 ? true : undefined));
    const ls = await batch(['ls -1 /inbound/orders']);
    expect(ls.stdout).not.toContain('never.csv');
  });

  it('may be removed before its rename, and leaves nothing', async () => {
    work.file('dropped.csv', 'id,amount,note\n44,4.40,dropped\n');
    await expectNothingStored(async () => {
      const run = await batch([
        'put dropped.csv /inbound/orders/dropped.csv.part',
        'rm /inbound/orders/dropped.csv.part',
      ]);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
    });
    expect(await staged()).toEqual([]);
  });

  it("is refused at the rename when its content is not the pipeline's format, and nothing is kept", async () => {
    work.file(
      'staged-picture.png',
      Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'), Buffer.alloc(2_000, 7)]),
    );
    await expectNothingStored(async () => {
      const run = await batch([
        'put staged-picture.png /inbound/orders/picture.csv.filepart',
        'rename /inbound/orders/picture.csv.filepart /inbound/orders/picture.csv',
      ]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/Failure|failed/);
    });
    expect(await staged()).toEqual([]);
  });

  it('is renamed only within its own folder, to a name of its own', async () => {
    work.file('moved.csv', 'id,amount,note\n45,4.50,moved\n');
    await expectNothingStored(async () => {
      const run = await batch([
        'put moved.csv /inbound/orders/moved.csv.tmp',
        'rename /inbound/orders/moved.csv.tmp /outbound/orders/moved.csv',
      ]);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toMatch(/Permission denied/);
    });
  });
});

describe('refusals OpenSSH cannot send (ssh2 client)', () => {
  const connect = () => sshConnect({ port, username: 'acme', privateKey: key.privateKey });
  const sftpOf = (client: ssh2.Client) =>
    new Promise<ssh2.SFTPWrapper>((resolve, reject) =>
      client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))),
    );

  it('an unknown key, and a known user with another key', async () => {
    const stranger = work.keygen('stranger');
    for (const username of ['acme', 'nobody']) {
      await expect(sshConnect({ port, username, privateKey: stranger.privateKey })).rejects.toThrow(
        /authentication methods failed/,
      );
    }
  });

  it('shell, exec, port forwarding and a subsystem other than sftp', async () => {
    const client = await connect();
    try {
      const refused = (start: (done: (error: Error | undefined) => void) => void) =>
        new Promise<Error | undefined>((resolve) => start(resolve));
      expect(await refused((done) => client.exec('cat /etc/passwd', (error) => done(error)))).toBeInstanceOf(
        Error,
      );
      expect(await refused((done) => client.shell((error) => done(error)))).toBeInstanceOf(Error);
      expect(
        await refused((done) => client.forwardOut('127.0.0.1', 1, '127.0.0.1', 22, (error) => done(error))),
      ).toBeInstanceOf(Error);
      expect(await refused((done) => client.subsys('netconf', (error) => done(error)))).toBeInstanceOf(Error);
    } finally {
      client.end();
    }
  });

  it('a NUL in a path', async () => {
    const client = await connect();
    try {
      const sftp = await sftpOf(client);
      const error = await new Promise<(Error & { code?: number }) | undefined>((resolve) =>
        sftp.open('/inbound/orders/a\0b.csv', 'w', (e) => resolve(e ?? undefined)),
      );
      expect(error?.code).toBe(3);
    } finally {
      client.end();
    }
  });

  it('a disconnect mid-put leaves nothing queued', async () => {
    await expectNothingStored(async () => {
      const client = await connect();
      const sftp = await sftpOf(client);
      const handle = await new Promise<Buffer>((resolve, reject) =>
        sftp.open('/inbound/orders/cut.csv', 'w', (error, h) => (error ? reject(error) : resolve(h))),
      );
      const head = Buffer.from(`id,amount,note\n${'31,1.00,x\n'.repeat(3000)}`);
      await new Promise<void>((resolve, reject) =>
        sftp.write(handle, head, 0, head.length, 0, (error) => (error ? reject(error) : resolve())),
      );
      // The connection drops without CLOSE.
      (client as unknown as { _sock: { destroy(): void } })._sock.destroy();
    });
  });

  it('writes out of order (a resume at an offset)', async () => {
    await expectNothingStored(async () => {
      const client = await connect();
      try {
        const sftp = await sftpOf(client);
        const handle = await new Promise<Buffer>((resolve, reject) =>
          sftp.open('/inbound/orders/gap.csv', 'w', (error, h) => (error ? reject(error) : resolve(h))),
        );
        const data = Buffer.from('id,amount,note\n41,1.00,x\n');
        const error = await new Promise<(Error & { code?: number }) | undefined>((resolve) =>
          sftp.write(handle, data, 0, data.length, 100, (e) => resolve(e ?? undefined)),
        );
        expect(error?.code).toBe(8);
        const closed = await new Promise<(Error & { code?: number }) | undefined>((resolve) =>
          sftp.close(handle, (e) => resolve(e ?? undefined)),
        );
        // The file was dropped at the refused write: its CLOSE cannot succeed either.
        expect([4, 8]).toContain(closed?.code);
      } finally {
        client.end();
      }
    });
  });

  it('a password only for a user that has one', async () => {
    await addUser(db.pool, {
      name: 'legacy',
      pipelines: ['orders'],
      keys: [],
      passwordHash: await hashPassword('correct horse battery staple'),
    });
    const client = await sshConnect({ port, username: 'legacy', password: 'correct horse battery staple' });
    client.end();
    await expect(
      sshConnect({ port, username: 'legacy', password: 'wrong horse battery staple' }),
    ).rejects.toThrow(/authentication methods failed/);
    // acme has keys only: its password sign-in is refused whatever is sent.
    await expect(sshConnect({ port, username: 'acme', password: 'anything at all' })).rejects.toThrow(
      /authentication methods failed/,
    );
  });

  it('more sessions than a user may hold', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => connect()));
    try {
      await expect(connect()).rejects.toThrow(/authentication methods failed/);
    } finally {
      for (const client of clients) client.end();
    }
    await sleep(200);
    (await connect()).end();
  });
});
