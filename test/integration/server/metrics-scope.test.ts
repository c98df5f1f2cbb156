/**
 * `/metrics` answers each token with what it may see: a token scoped to pipelines gets only those
 * pipelines' series (no service-wide series that would show other pipelines' activity); an unscoped
 * token, or INLET_API_TOKEN, gets everything. Real HTTP, spool and PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../../src/server/tokens.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { accepted, put, until, waitForVerdict } from '../../harness/upload-client.js';
import { api, type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

let db: TestDatabase;
let running: RunningService;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA ms');
  running = await runService(db, uploadConfig('ms'));
  // One finished file in each pipeline, so both have series.
  const orders = await accepted(await put(running.service, 'orders/ms.csv', 'id,amount,note\n1,1,m\n'));
  const events = await accepted(
    await put(running.service, 'events/ms.ndjson', '{"kind":"click","at":"2026-01-01T00:00:00Z"}\n'),
  );
  await waitForVerdict(running.service, orders.ingestionId);
  await waitForVerdict(running.service, events.ingestionId);
  // The worker counts a file just after it is visible as finished: wait for both counters.
  await until('both pipelines to be counted', async () => {
    const text = await metricsText(undefined);
    return text.includes('inlet_files_total{pipeline="orders"') &&
      text.includes('inlet_files_total{pipeline="events"')
      ? true
      : undefined;
  });
});

afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

async function metricsText(token: string | undefined): Promise<string> {
  const response = await api(running.service, '/metrics', token === undefined ? {} : { token });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return text;
}

/** The metric names that have at least one sample in a Prometheus text document. */
function sampleNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    names.add(line.slice(0, line.search(/[{ ]/)));
  }
  return names;
}

/** The pipeline label values of every sample. */
function pipelinesIn(text: string): Set<string> {
  return new Set([...text.matchAll(/^[a-z_]+\{[^\n]*?pipeline="([^"]*)"/gm)].map((m) => m[1] as string));
}

describe('/metrics per token', () => {
  it('shows a token scoped to pipelines only their series', async () => {
    const scoped = await createToken(db.pool, { name: 'ms-events', pipelines: ['events'] });
    const text = await metricsText(scoped.token);
    expect(pipelinesIn(text)).toEqual(new Set(['events']));
    expect(text).toMatch(/^inlet_files_total\{pipeline="events",status="loaded"\} 1$/m);
    expect(text).toMatch(/^inlet_rows_loaded_total\{pipeline="events"\} 1$/m);
    expect(text).toMatch(/^inlet_lag_seconds_count\{pipeline="events"\} 1$/m);
    // Nothing service-wide: uploads by outcome, bytes, spool depth and workers add up every pipeline's work.
    const names = sampleNames(text);
    for (const global of [
      'inlet_uploads_total',
      'inlet_upload_bytes_total',
      'inlet_spool_entries',
      'inlet_workers_busy',
      'inlet_process_cpu_seconds_total',
    ]) {
      expect(names.has(global), global).toBe(false);
    }
    // Every sample left carries a pipeline label.
    for (const line of text.split('\n').filter((l) => l !== '' && !l.startsWith('#'))) {
      expect(line).toMatch(/pipeline="events"/);
    }
  });

  it('shows a token scoped to a pipeline with no activity no samples at all', async () => {
    const idle = await createToken(db.pool, { name: 'ms-idle', pipelines: ['nothing-here'] });
    const text = await metricsText(idle.token);
    expect(sampleNames(text)).toEqual(new Set());
  });

  it('shows an unscoped token and the bootstrap token every series', async () => {
    const admin = await createToken(db.pool, { name: 'ms-admin' });
    for (const token of [admin.token, undefined]) {
      const text = await metricsText(token);
      expect(pipelinesIn(text)).toEqual(new Set(['orders', 'events']));
      const names = sampleNames(text);
      for (const global of ['inlet_uploads_total', 'inlet_spool_entries', 'inlet_workers_busy']) {
        expect(names.has(global), global).toBe(true);
      }
    }
  });
});
