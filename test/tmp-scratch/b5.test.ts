import http from 'node:http';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../harness/db.js';
import { type RunningService, runService, uploadConfig } from '../harness/upload-service.js';

let db: TestDatabase;
let running: RunningService;
beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA up');
  running = await runService(db, uploadConfig('up'));
});
afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

function put(port: number, p: string, body: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const r = http.request({ host: '127.0.0.1', port, method: 'PUT', path: p, headers: { authorization: 'Bearer test-bootstrap-token', 'content-type': 'text/csv' } });
    r.on('response', (m) => { let t = ''; m.on('data', (c) => { t += c; }); m.on('end', () => resolve(`${m.statusCode} ${t}`)); });
    r.on('error', reject);
    r.end(body);
  });
}

it('explores', async () => {
  const names = [
    'orders/..%2f..%2fetc%2fpasswd.csv?pipeline=orders',
    'orders/../../../../tmp/evil.csv?pipeline=orders',
    '..%2F..%2F..%2Fescape.csv?pipeline=orders',
    'orders/nul%00byte.csv',
    `orders/${'a'.repeat(300)}.csv`,
    'CON?pipeline=orders', 'con.csv?pipeline=orders', 'NUL.csv?pipeline=orders', '%2e%2e?pipeline=orders', '..?pipeline=orders', '.?pipeline=orders', '...?pipeline=orders',
    '..%5c..%5cwin.csv?pipeline=orders', 'orders/%2e%2e/x.csv', 'orders/sp%20ace%3F%23.csv', 'orders/%E2%82%AC.csv', 'orders/%ff.csv', 'orders//double.csv', `orders/${'b'.repeat(1100)}.csv`, `orders/${'c'.repeat(2100)}.csv`,
  ];
  let id = 1000;
  for (const n of names) {
    const r = await put(running.service.port, `/v1/files/${n}`, `id,amount,note\n${id++},1,x\n`);
    console.log("%s %s", JSON.stringify(n.slice(0, 60)), r.slice(0, 300));
  }
  await sleep(3000);
  console.log(await readdir(running.spoolDir, { recursive: true }));
  for (const d of await readdir(path.join(running.spoolDir, 'done'))) console.log(JSON.stringify(JSON.parse(await readFile(path.join(running.spoolDir, 'done', d, 'meta.json'), 'utf8')).name).slice(0, 80));
  const { rows } = await db.pool.query('SELECT left(source_uri, 80) AS u, status, error_message FROM inlet.ingestions');
  console.log(rows);
});
