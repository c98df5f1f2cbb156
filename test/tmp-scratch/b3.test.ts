import net from 'node:net';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
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

function raw(port: number, head: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString()));
    s.on('error', () => undefined);
    s.on('connect', () => { s.write(head); s.end(body); });
  });
}

it('loops', async () => {
  const results: string[] = [];
  for (let i = 0; i < 200; i++) {
    const body = `id,amount,note\n${900 + i},1,x\n`;
    const r = await raw(running.service.port,
      `PUT /v1/files/orders/lie-${i}.csv HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-bootstrap-token\r\nContent-Type: text/csv\r\nContent-Length: 5000\r\n\r\n`, body);
    results.push(r.split('\r\n')[0] + ' ' + r.slice(r.indexOf('{')));
  }
  await sleep(1000);
  const all: string[] = [];
  for (const s of ['tmp', 'incoming', 'processing', 'done', 'failed']) all.push(...(await readdir(path.join(running.spoolDir, s))).map((x) => `${s}/${x}`));
  const counts: Record<string, number> = {};
  for (const r of results) counts[r] = (counts[r] ?? 0) + 1;
  console.log(counts, all);
  const { rows } = await db.pool.query('SELECT source_uri, status FROM inlet.ingestions');
  console.log(rows);
  console.log((await running.service.metrics.text()).split('\n').filter((l) => l.startsWith('inlet_uploads_total')));
  expect(all).toEqual([]);
});
