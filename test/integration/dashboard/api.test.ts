/**
 * The routes the dashboard reads, on the real service and a real PostgreSQL: keyset pagination over a
 * 10,000-ingestion history (no duplicates, no gaps, the ledger's order), the stats buckets against the
 * ledger, token scopes, the static page and its headers, and the EMF line beside /metrics.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestionPageQuery, LEDGER_STATUSES } from '../../../src/ledger/read.js';
import { statsQuery, statsWindow } from '../../../src/ledger/stats.js';
import { createLogger } from '../../../src/observability/logger.js';
import { DASHBOARD_CSP } from '../../../src/server/routes/dashboard.js';
import { createToken } from '../../../src/server/tokens.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import { api, type RunningService, runService, uploadConfig } from '../../harness/upload-service.js';

let db: TestDatabase;
let running: RunningService;
const logLines: Record<string, unknown>[] = [];

/** The bulk history: 10,000 rows ending two hours ago, so the last hour's figures stay the test's own. */
const BULK = 10_000;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA dash');
  const logger = createLogger({}, 'info', (line) => {
    logLines.push(JSON.parse(line) as Record<string, unknown>);
  });
  running = await runService(db, uploadConfig('dash'), { logger });
  // Groups of four share a base time and some differ only in microseconds (which a JavaScript Date
  // cannot hold): the cursor must keep both apart. One in 97 is still queued (no finished_at).
  await db.pool.query(
    `INSERT INTO inlet.ingestions (id, pipeline, source_uri, status, rows_loaded, rows_rejected,
                                   received_at, started_at, finished_at)
     SELECT gen_random_uuid(), CASE WHEN g % 3 = 0 THEN 'bulk_b' ELSE 'bulk_a' END,
            'upload:///bulk/' || g || '.csv',
            CASE WHEN g % 97 = 0 THEN 'queued' WHEN g % 10 = 0 THEN 'rejected' ELSE 'loaded' END,
            CASE WHEN g % 10 = 0 THEN 0 ELSE g % 1000 END, CASE WHEN g % 10 = 0 THEN 3 ELSE 0 END,
            t - interval '2 seconds',
            CASE WHEN g % 97 = 0 THEN NULL ELSE t - interval '1 second' END,
            CASE WHEN g % 97 = 0 THEN NULL ELSE t END
       FROM generate_series(1, $1::int) AS g,
            LATERAL (SELECT now() - interval '2 hours' - (g / 4) * interval '4 minutes'
                            + (g % 3) * interval '1 microsecond' AS t) AS x`,
    [BULK],
  );
  await db.pool.query('ANALYZE inlet.ingestions');
});

afterAll(async () => {
  await running?.stop();
  await db?.drop();
});

interface Page {
  ingestions: { id: string; pipeline: string; status: string }[];
  next: string | null;
}

async function getJson<T>(route: string, token?: string): Promise<T> {
  const response = await api(running.service, route, token === undefined ? {} : { token });
  const text = await response.text();
  expect(response.status, text).toBe(200);
  return JSON.parse(text) as T;
}

/** Every page of a listing, following `next`; bounded so a cursor bug cannot loop forever. */
async function walk(query: string, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let before: string | null = null;
  let pages = 0;
  do {
    const params = new URLSearchParams(query);
    params.set('limit', String(limit));
    if (before !== null) params.set('before', before);
    const page: Page = await getJson(`/v1/ingestions?${params}`);
    expect(page.ingestions.length).toBeLessThanOrEqual(limit);
    ids.push(...page.ingestions.map((row) => row.id));
    before = page.next;
    pages++;
    if (pages > 2 * BULK) throw new Error('the cursor never reached the end');
  } while (before !== null);
  return { ids, pages };
}

async function ledgerOrder(where = 'true', values: unknown[] = []): Promise<string[]> {
  const { rows } = await db.pool.query<{ id: string }>(
    `SELECT id FROM inlet.ingestions WHERE ${where}
      ORDER BY coalesce(finished_at, started_at, received_at) DESC, id`,
    values,
  );
  return rows.map((row) => row.id);
}

/** The node types and index names of an EXPLAIN (FORMAT JSON) plan. */
function planNodes(plan: unknown): { type: string; index?: string; relation?: string }[] {
  const nodes: { type: string; index?: string; relation?: string }[] = [];
  const visit = (node: Record<string, unknown>) => {
    nodes.push({
      type: String(node['Node Type']),
      ...(typeof node['Index Name'] === 'string' ? { index: node['Index Name'] } : {}),
      ...(typeof node['Relation Name'] === 'string' ? { relation: node['Relation Name'] } : {}),
    });
    for (const child of (node.Plans as Record<string, unknown>[] | undefined) ?? []) visit(child);
  };
  visit((plan as { Plan: Record<string, unknown> }[])[0]?.Plan ?? {});
  return nodes;
}

async function explain(query: { text: string; values: unknown[] }) {
  const { rows } = await db.pool.query<{ 'QUERY PLAN': unknown }>(
    `EXPLAIN (FORMAT JSON) ${query.text}`,
    query.values,
  );
  return planNodes(rows[0]?.['QUERY PLAN']);
}

describe('GET /v1/ingestions pages with a keyset cursor', () => {
  it('walks the whole 10,000-row history in the ledger order, without duplicates or gaps', async () => {
    const expected = await ledgerOrder();
    expect(expected.length).toBeGreaterThanOrEqual(BULK);
    const { ids, pages } = await walk('', 1000);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 1000));
  });

  it('keeps the order under a filter and with small pages', async () => {
    const { ids } = await walk('pipeline=bulk_b&status=loaded', 97);
    expect(ids).toEqual(await ledgerOrder(`pipeline = 'bulk_b' AND status = 'loaded'`));
    const queued = await walk('status=queued', 7);
    expect(queued.ids).toEqual(await ledgerOrder(`status = 'queued'`));
    expect(queued.ids.length).toBe(Math.floor(BULK / 97));
  });

  it('answers next: null on the last page and 400 for a cursor it did not make', async () => {
    const last: Page = await getJson('/v1/ingestions?pipeline=nobody');
    expect(last).toEqual({ ingestions: [], next: null });
    for (const bad of ['nonsense', Buffer.from('["x","y"]').toString('base64url'), 'W10']) {
      const response = await api(running.service, `/v1/ingestions?before=${bad}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_cursor');
    }
  });

  it('uses the ingestions_recent index for a page deep in the history (EXPLAIN on 10,000 rows)', async () => {
    const deep: Page = await getJson('/v1/ingestions?limit=1000');
    const cursor = JSON.parse(Buffer.from(deep.next ?? '', 'base64url').toString()) as [string, string];
    const plans = [
      await explain(ingestionPageQuery({ limit: 50 })),
      await explain(ingestionPageQuery({ limit: 50, before: { at: cursor[0], id: cursor[1] } })),
      await explain(ingestionPageQuery({ limit: 50, pipeline: 'bulk_a', pipelines: ['bulk_a', 'bulk_b'] })),
    ];
    for (const plan of plans) {
      expect(plan.map((node) => node.index)).toContain('ingestions_recent');
      expect(plan.filter((node) => node.type === 'Seq Scan')).toEqual([]);
    }
  });
});

describe('GET /v1/stats', () => {
  it('counts finished files per bucket exactly as the ledger does', async () => {
    const now = Date.now();
    const minutesAgo = [0.2, 1.5, 1.6, 7, 7.1, 7.2, 33, 58.5, 61, 120];
    const values = minutesAgo.map((m, i) => [
      crypto.randomUUID(),
      i % 2 === 0 ? 'stats_a' : 'stats_b',
      `upload:///stats/${i}.csv`,
      i === 3 ? 'rejected' : i === 4 ? 'failed' : 'loaded',
      i === 3 || i === 4 ? 0 : (i + 1) * 100,
      i === 3 ? 7 : i % 2,
      new Date(now - m * 60_000),
    ]);
    for (const row of values) {
      await db.pool.query(
        `INSERT INTO inlet.ingestions (id, pipeline, source_uri, status, rows_loaded, rows_rejected,
                                       received_at, started_at, finished_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz - interval '3 seconds', $7::timestamptz - interval '1 second', $7)`,
        row,
      );
    }
    const stats = await getJson<{
      from: string;
      to: string;
      bucketSeconds: number;
      buckets: {
        start: string;
        files: number;
        rowsLoaded: number;
        rowsRejected: number;
        rowsPerSecond: number;
      }[];
      pipelines: {
        pipeline: string;
        files: number;
        rowsLoaded: number;
        rowsRejected: number;
        rejectRatio: number;
      }[];
      totals: { files: number; rowsLoaded: number; rowsRejected: number; byStatus: Record<string, number> };
      spool: Record<string, number> | null;
    }>('/v1/stats?minutes=60');
    expect(stats.bucketSeconds).toBe(60);
    expect(stats.buckets).toHaveLength(60);
    expect(Date.parse(stats.to) - Date.parse(stats.from)).toBe(3_600_000);
    expect(Date.parse(stats.from) % 60_000).toBe(0);
    // Each bucket against the ledger, grouped by PostgreSQL itself.
    const { rows } = await db.pool.query<{ start: Date; files: string; loaded: string; rejected: string }>(
      `SELECT to_timestamp(floor(extract(epoch FROM finished_at) / 60) * 60) AS start, count(*) AS files,
              sum(rows_loaded) AS loaded, sum(rows_rejected) AS rejected
         FROM inlet.ingestions WHERE finished_at >= $1 AND finished_at < $2 GROUP BY 1`,
      [stats.from, stats.to],
    );
    const ledger = new Map(rows.map((row) => [row.start.toISOString(), row]));
    expect(rows.reduce((sum, row) => sum + Number(row.files), 0)).toBe(8);
    for (const bucket of stats.buckets) {
      const expected = ledger.get(bucket.start);
      expect(bucket.files).toBe(Number(expected?.files ?? 0));
      expect(bucket.rowsLoaded).toBe(Number(expected?.loaded ?? 0));
      expect(bucket.rowsRejected).toBe(Number(expected?.rejected ?? 0));
      expect(bucket.rowsPerSecond).toBeCloseTo(bucket.rowsLoaded / 60, 9);
    }
    expect(stats.totals.files).toBe(8);
    expect(stats.totals.byStatus).toMatchObject({ loaded: 6, rejected: 1, failed: 1 });
    expect(Object.keys(stats.totals.byStatus).sort()).toEqual([...LEDGER_STATUSES].sort());
    const a = stats.pipelines.find((p) => p.pipeline === 'stats_a');
    const { rows: aRows } = await db.pool.query<{ loaded: string; rejected: string }>(
      `SELECT sum(rows_loaded) AS loaded, sum(rows_rejected) AS rejected FROM inlet.ingestions
        WHERE pipeline = 'stats_a' AND finished_at >= $1 AND finished_at < $2`,
      [stats.from, stats.to],
    );
    const loaded = Number(aRows[0]?.loaded);
    const rejected = Number(aRows[0]?.rejected);
    expect(a).toMatchObject({ rowsLoaded: loaded, rowsRejected: rejected });
    expect(a?.rejectRatio).toBeCloseTo(rejected / (loaded + rejected), 9);
    // The bootstrap token sees the spool.
    expect(stats.spool).toEqual({ incoming: 0, processing: 0, done: 0, failed: 0 });
  });

  it('buckets longer windows coarser and refuses windows past a week', async () => {
    const day = await getJson<{ bucketSeconds: number; buckets: unknown[] }>('/v1/stats?minutes=1440');
    expect(day.bucketSeconds).toBe(1800);
    expect(day.buckets).toHaveLength(48);
    const week = await getJson<{ from: string; to: string; totals: { files: number } }>(
      '/v1/stats?minutes=10080',
    );
    const { rows } = await db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM inlet.ingestions WHERE finished_at >= $1 AND finished_at < $2`,
      [week.from, week.to],
    );
    expect(Number(rows[0]?.n)).toBeGreaterThan(1000);
    expect(week.totals.files).toBe(Number(rows[0]?.n));
    expect((await api(running.service, '/v1/stats?minutes=20000')).status).toBe(400);
  });

  it('scans only the window of the ingestions_recent index (EXPLAIN on 10,000 rows)', async () => {
    for (const minutes of [60, 1440]) {
      const plan = await explain(statsQuery({}, statsWindow(minutes)));
      expect(plan.map((node) => node.index)).toContain('ingestions_recent');
      expect(plan.filter((node) => node.type === 'Seq Scan')).toEqual([]);
    }
  });
});

describe('on a 10,000-ingestion history', () => {
  it("answers the dashboard's poll (a page and the week's stats) quickly", async () => {
    const started = performance.now();
    for (let i = 0; i < 20; i++) {
      await Promise.all([getJson('/v1/ingestions?limit=50'), getJson('/v1/stats?minutes=10080')]);
    }
    const perPoll = (performance.now() - started) / 20;
    // Generous for a slow 2-core runner; a few milliseconds here. EXPLAIN above says why it scales.
    expect(perPoll).toBeLessThan(500);
  });
});

describe('scoped tokens', () => {
  it('see only their pipelines in the list and the stats, and not the shared spool', async () => {
    const { token } = await createToken(db.pool, { name: 'scoped', pipelines: ['stats_a'] });
    const page: Page = await getJson('/v1/ingestions?limit=1000', token);
    expect(page.ingestions.length).toBeGreaterThan(0);
    expect(new Set(page.ingestions.map((row) => row.pipeline))).toEqual(new Set(['stats_a']));
    const stats = await getJson<{ pipelines: { pipeline: string }[]; spool: unknown }>(
      '/v1/stats?minutes=60',
      token,
    );
    expect(stats.pipelines.map((p) => p.pipeline)).toEqual(['stats_a']);
    expect(stats.spool).toBeNull();
    for (const route of ['/v1/ingestions?pipeline=stats_b', '/v1/stats?pipeline=stats_b']) {
      const response = await api(running.service, route, { token });
      expect(response.status).toBe(403);
    }
    expect((await api(running.service, '/v1/stats', { token: null })).status).toBe(401);
  });
});

describe('the dashboard page', () => {
  it('is served without a token, with its content types, CSP and cache validators', async () => {
    const page = await fetch(`${running.service.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toBe(DASHBOARD_CSP);
    expect(DASHBOARD_CSP).toContain("default-src 'none'");
    expect(DASHBOARD_CSP).not.toContain('unsafe');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const html = await page.text();
    // Nothing from elsewhere: every src and href is a local path or a fragment.
    const references = [...html.matchAll(/\b(?:src|href)="([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(references.length).toBeGreaterThan(2);
    for (const reference of references) expect(reference).toMatch(/^(\/dashboard\/|#)/);
    for (const [file, type] of [
      ['app.js', 'text/javascript; charset=utf-8'],
      ['style.css', 'text/css; charset=utf-8'],
      ['favicon.svg', 'image/svg+xml'],
    ] as const) {
      const asset = await fetch(`${running.service.url}/dashboard/${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('content-type')).toBe(type);
      const etag = asset.headers.get('etag') ?? '';
      const again = await fetch(`${running.service.url}/dashboard/${file}`, {
        headers: { 'if-none-match': etag },
      });
      expect(again.status).toBe(304);
    }
    for (const missing of ['nope.js', '..%2Fpackage.json', 'index.html']) {
      expect((await fetch(`${running.service.url}/dashboard/${missing}`)).status, missing).toBe(404);
    }
  });

  it('leaves the page out of the OpenAPI document and puts the new routes in', async () => {
    const doc = await getJson<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>(
      '/v1/openapi.json',
    );
    expect(doc.paths['/']).toBeUndefined();
    expect(doc.paths['/v1/stats']?.get).toBeDefined();
    expect(doc.paths['/v1/ingestions']?.get?.parameters?.map((p) => p.name)).toContain('before');
  });
});

interface SnapshotRunView {
  id: string;
  trigger: string;
  provider: string;
  target: string;
  status: string;
  startedAt: string;
  finishedAt: string | null;
  snapshotId: string | null;
  files: number | null;
  bytes: number | null;
  bytesUploaded: number | null;
  pruned: number | null;
  error?: { code: string; message: string };
}

describe('GET /v1/snapshots', () => {
  /** 25 runs, one a minute apart ending now; every fifth failed, the newest one still running. */
  const runs = Array.from({ length: 25 }, (_, i) => ({
    id: crypto.randomUUID(),
    minutesAgo: i,
    status: i === 0 ? 'running' : i % 5 === 0 ? 'failed' : 'succeeded',
  }));

  beforeAll(async () => {
    for (const [i, run] of runs.entries()) {
      const succeeded = run.status === 'succeeded';
      await db.pool.query(
        `INSERT INTO inlet.snapshot_runs (id, trigger, provider, target, host, status, started_at, finished_at,
                                          snapshot_id, files, bytes, bytes_uploaded, pruned,
                                          error_code, error_message)
         VALUES ($1, 'schedule', 'archive', 's3://bucket/inlet', 'test-host', $2,
                 now() - make_interval(mins => $3), CASE WHEN $2 = 'running' THEN NULL ELSE now() - make_interval(mins => $3) + interval '20 seconds' END,
                 $4, $5, $6, $7, $8, $9, $10)`,
        [
          run.id,
          run.status,
          run.minutesAgo,
          succeeded ? `snap-${i}` : null,
          succeeded ? 100 + i : null,
          succeeded ? 5_000_000_000 + i : null,
          succeeded ? 1000 * i : null,
          succeeded ? i % 2 : null,
          run.status === 'failed' ? 'target_unreachable' : null,
          run.status === 'failed' ? 'the bucket did not answer' : null,
        ],
      );
    }
  });

  it('lists the 20 newest runs, newest first, with sizes and errors', async () => {
    const body = await getJson<{ snapshots: SnapshotRunView[] }>('/v1/snapshots');
    expect(body.snapshots.map((run) => run.id)).toEqual(runs.slice(0, 20).map((run) => run.id));
    expect(body.snapshots[0]).toMatchObject({
      status: 'running',
      finishedAt: null,
      snapshotId: null,
      bytes: null,
    });
    expect(body.snapshots[0]?.error).toBeUndefined();
    expect(body.snapshots[3]).toEqual({
      id: runs[3]?.id,
      trigger: 'schedule',
      provider: 'archive',
      target: 's3://bucket/inlet',
      status: 'succeeded',
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      snapshotId: 'snap-3',
      files: 103,
      bytes: 5_000_000_003,
      bytesUploaded: 3000,
      pruned: 1,
    });
    expect(body.snapshots[5]).toMatchObject({
      status: 'failed',
      snapshotId: null,
      error: { code: 'target_unreachable', message: 'the bucket did not answer' },
    });
    const started = body.snapshots.map((run) => Date.parse(run.startedAt));
    expect(started).toEqual([...started].sort((a, b) => b - a));
  });

  it('honours ?limit= up to 200 and refuses more', async () => {
    const three = await getJson<{ snapshots: SnapshotRunView[] }>('/v1/snapshots?limit=3');
    expect(three.snapshots.map((run) => run.id)).toEqual(runs.slice(0, 3).map((run) => run.id));
    const all = await getJson<{ snapshots: SnapshotRunView[] }>('/v1/snapshots?limit=200');
    expect(all.snapshots).toHaveLength(runs.length);
    for (const bad of ['0', '201', 'x']) {
      expect((await api(running.service, `/v1/snapshots?limit=${bad}`)).status, bad).toBe(400);
    }
  });

  it('refuses a token scoped to pipelines (403 forbidden) and no token (401)', async () => {
    const { token } = await createToken(db.pool, { name: 'snapshots-scoped', pipelines: ['stats_a'] });
    const response = await api(running.service, '/v1/snapshots', { token });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    const unscoped = await createToken(db.pool, { name: 'snapshots-all' });
    expect((await api(running.service, '/v1/snapshots', { token: unscoped.token })).status).toBe(200);
    expect((await api(running.service, '/v1/snapshots', { token: null })).status).toBe(401);
  });

  it('answers an empty list on a database without the table', async () => {
    await db.pool.query('ALTER TABLE inlet.snapshot_runs RENAME TO snapshot_runs_away');
    try {
      expect(await getJson('/v1/snapshots')).toEqual({ snapshots: [] });
    } finally {
      await db.pool.query('ALTER TABLE inlet.snapshot_runs_away RENAME TO snapshot_runs');
    }
  });

  it('is in the OpenAPI document with its limit parameter', async () => {
    const doc = await getJson<{ paths: Record<string, { get?: { parameters?: { name: string }[] } }> }>(
      '/v1/openapi.json',
    );
    expect(doc.paths['/v1/snapshots']?.get?.parameters?.map((p) => p.name)).toEqual(['limit']);
  });
});

describe('metrics for CloudWatch and Prometheus', () => {
  it('logs one EMF line per finished file with the names /metrics counts', async () => {
    const response = await api(running.service, '/v1/files/orders-emf.csv', {
      method: 'PUT',
      body: 'id,amount,note\n1,1.00,a\n2,oops,b\n3,3.00,c\n',
    });
    expect(response.status).toBe(202);
    const { ingestionId } = (await response.json()) as { ingestionId: string };
    await running.waitFinished(1);
    const emf = logLines.filter((line) => line._aws !== undefined);
    expect(emf).toHaveLength(1);
    const [line] = emf;
    expect(line).toMatchObject({
      service: 'inlet',
      files: 1,
      rows_loaded: 2,
      rows_rejected: 1,
      pipeline: 'orders',
      status: 'loaded',
      ingestionId,
    });
    interface Directive {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string }[];
    }
    const aws = line?._aws as { CloudWatchMetrics: Directive[] } | undefined;
    const directive = aws?.CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe('Inlet');
    expect(directive?.Dimensions).toEqual([['service']]);
    const names = directive?.Metrics.map((metric) => metric.Name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['files', 'rows_loaded', 'rows_rejected', 'lag']));
    for (const name of names) expect(typeof line?.[name]).toBe('number');
    const metrics = await (await api(running.service, '/metrics')).text();
    expect(metrics).toContain('inlet_files_total{pipeline="orders",status="loaded"} 1');
    expect(metrics).toContain('inlet_rows_loaded_total{pipeline="orders"} 2');
    expect(metrics).toContain('inlet_rows_rejected_total{pipeline="orders"} 1');
    expect(metrics).toMatch(/inlet_lag_seconds_count\{pipeline="orders"\} 1/);
  });

  it('returns at most ?limit= rejects, and JSON when ?format=json overrides Accept', async () => {
    const [finished] = running.finished;
    const id = finished?.entry.id ?? '';
    const limited = await getJson<{ rejects: unknown[] }>(`/v1/ingestions/${id}/rejects?limit=1`);
    expect(limited.rejects).toHaveLength(1);
    const json = await api(running.service, `/v1/ingestions/${id}/rejects?format=json`, {
      headers: { accept: 'text/csv' },
    });
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
  });
});
