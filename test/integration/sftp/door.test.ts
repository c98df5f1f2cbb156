/**
 * The SFTP door end to end with the real OpenSSH client (`sftp -b`), the host key pinned: a put is loaded
 * once, its result and rejected rows appear under /outbound and match the ledger, the same bytes again are
 * a duplicate, and /inbound lists what was received.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { addSftpUser, type KeyPair, sftpBatch, sftpWorkspace } from '../../harness/sftp.js';
import { until } from '../../harness/upload-client.js';
import { api, type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

const work = sftpWorkspace();
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
