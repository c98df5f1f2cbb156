/**
 * The dashboard in a real browser (Debian's chromium driven by playwright-core) against the real upload
 * service on a real PostgreSQL: the token from the address, a file uploaded through the API appearing
 * as loaded without a reload, its page with the rejected rows, their CSV download, a refused token,
 * and the page's figures compared with the ledger's. Screenshots go to test-results/dashboard/.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, revokeToken } from '../../../src/server/tokens.js';
import { ROOT } from '../../harness/cli.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';
import {
  api,
  BOOTSTRAP,
  type RunningService,
  runService,
  uploadConfig,
} from '../../harness/upload-service.js';

const ARTIFACTS = path.join(ROOT, 'test-results', 'dashboard');
/** Every wait in this file is bounded by this (polls run every 2 s). */
const WAIT_MS = 15_000;

const CHROMIUM = '/usr/bin/chromium';
/**
 * Without Debian's chromium these tests are skipped on a laptop (`apt-get install chromium`), never in CI:
 * .ci/run installs it, and a missing browser there must fail, not pass quietly.
 */
const runBrowser = existsSync(CHROMIUM) || process.env.CI === 'true';

let db: TestDatabase;
let running: RunningService;
let browser: Browser;

beforeAll(async () => {
  if (!runBrowser) return;
  db = await createTestDatabase();
  await db.pool.query('CREATE SCHEMA web');
  running = await runService(db, uploadConfig('web'));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  await mkdir(ARTIFACTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await running?.stop();
  await db?.drop();
});

interface Watched {
  context: BrowserContext;
  page: Page;
  /** Script errors and console errors: a clean run has none. */
  errors: string[];
  /** Every URL the page asked for: all of them must be this service (no CDN, no other host). */
  requests: string[];
}

async function open(): Promise<Watched> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors: string[] = [];
  const requests: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('request', (request) => requests.push(request.url()));
  return { context, page, errors, requests };
}

function expectOnlyThisService(watched: Watched): void {
  const foreign = watched.requests.filter(
    (url) => !url.startsWith(`${running.service.url}/`) && !url.startsWith('blob:'),
  );
  expect(foreign).toEqual([]);
}

async function upload(name: string, body: string): Promise<string> {
  const response = await api(running.service, `/v1/files/${name}`, { method: 'PUT', body });
  const text = await response.text();
  expect(response.status, text).toBe(202);
  return (JSON.parse(text) as { ingestionId: string }).ingestionId;
}

/** An expression evaluated in the page (this file is compiled without the DOM's types). */
function inPage(page: Page, expression: string): Promise<unknown> {
  return page.evaluate(expression);
}

/** Integers as the page prints them ("1,234"). */
function count(text: string | null): number {
  return Number((text ?? '').replaceAll(',', ''));
}

describe.skipIf(!runBrowser)('the dashboard in chromium', () => {
  it('shows an upload live, opens it, lists and downloads its rejects; figures match the ledger', async () => {
    const watched = await open();
    const { page } = watched;
    try {
      await page.goto(`${running.service.url}/#token=${BOOTSTRAP}`);
      await page.locator('#overview').waitFor({ state: 'visible' });
      // The token left the address bar (and the history) and went to session storage.
      expect(page.url()).toBe(`${running.service.url}/`);
      expect(await inPage(page, "sessionStorage.getItem('inlet.token')")).toBe(BOOTSTRAP);
      await page.locator('#list-empty').waitFor({ state: 'visible' });
      // A marker on the window: it survives only if the page is never reloaded.
      await inPage(page, 'window.marker = 42');

      const good = await upload('orders-good.csv', 'id,amount,note\n1,10.00,a\n2,20.00,b\n');
      const mixed = await upload(
        'orders-mixed.csv',
        'id,amount,note\n10,1.00,fine\n11,"=HYPERLINK(""http://x"")",formula\n12,3.00,fine\n13,abc,"+bad, quoted"\n14,5.00,fine\n',
      );
      const bad = await upload('orders-bad.csv', 'id,amount,note\n20,x,a\n21,y,b\n');
      await running.waitFinished(3);

      const mixedRow = page.locator(`tr[data-id="${mixed}"]`);
      await page.locator(`tr[data-id="${mixed}"][data-status="loaded"]`).waitFor();
      await page.locator(`tr[data-id="${bad}"][data-status="rejected"]`).waitFor();
      await page.locator(`tr[data-id="${good}"][data-status="loaded"]`).waitFor();
      expect(await inPage(page, 'window.marker')).toBe(42);
      expect(await mixedRow.getByRole('link').textContent()).toBe('orders-mixed.csv');
      // Each came through the upload API, and the list says so.
      expect(await mixedRow.locator('[data-field="door"]').textContent()).toBe('HTTP upload');

      // The list's figures are the ledger's, row by row.
      const ledger = await db.pool.query<{
        id: string;
        status: string;
        rows_loaded: string;
        rows_rejected: string;
      }>('SELECT id, status, rows_loaded, rows_rejected FROM inlet.ingestions');
      expect(await page.locator('#ingestions tbody tr').count()).toBe(ledger.rows.length);
      for (const row of ledger.rows) {
        const tr = page.locator(`tr[data-id="${row.id}"]`);
        expect(await tr.getAttribute('data-status')).toBe(row.status);
        expect(count(await tr.locator('[data-field="rows-loaded"]').textContent())).toBe(
          Number(row.rows_loaded),
        );
        expect(count(await tr.locator('[data-field="rows-rejected"]').textContent())).toBe(
          Number(row.rows_rejected),
        );
      }

      // The stats figures are the ledger's totals (everything here finished within the hour).
      const totals = (
        await db.pool.query<{ files: string; loaded: string; rejected: string; bad: string }>(
          `SELECT count(*) AS files, sum(rows_loaded) AS loaded, sum(rows_rejected) AS rejected,
                  count(*) FILTER (WHERE status IN ('rejected', 'failed')) AS bad
             FROM inlet.ingestions WHERE finished_at IS NOT NULL`,
        )
      ).rows[0];
      const figure = (name: string) => page.locator(`[data-figure="${name}"]`);
      await expect
        .poll(async () => count(await figure('files').textContent()), { timeout: WAIT_MS })
        .toBe(Number(totals?.files));
      expect(count(await figure('rows-loaded').textContent())).toBe(Number(totals?.loaded));
      expect(count(await figure('rows-rejected').textContent())).toBe(Number(totals?.rejected));
      expect(count(await figure('bad-files').textContent())).toBe(Number(totals?.bad));
      expect(count(await figure('spool-queue').textContent())).toBe(0);
      // The charts are drawn, and say in words what they show.
      for (const chart of ['chart-rows', 'chart-files', 'chart-rejects', 'chart-spool']) {
        await expect.poll(() => page.locator(`#${chart} svg[role="img"]`).count()).toBeGreaterThan(0);
      }
      expect(await page.locator('#chart-rejects desc').textContent()).toMatch(/^orders: \d+(\.\d)?%$/);

      // Snapshots: none yet, then a run the scheduler recorded appears without a reload.
      await page.locator('#snapshots-empty').waitFor({ state: 'visible' });
      const snapshotRun = crypto.randomUUID();
      await db.pool.query(
        `INSERT INTO inlet.snapshot_runs (id, trigger, provider, target, host, status, finished_at,
                                          snapshot_id, files, bytes, bytes_uploaded, pruned)
         VALUES ($1, 'manual', 'archive', 'file:///tmp/inlet-snapshots', 'test-host', 'succeeded', now(),
                 'snap-browser-1', 42, 1234567, 4567, 0)`,
        [snapshotRun],
      );
      const snapshotRow = page.locator(`#snapshots tr[data-id="${snapshotRun}"]`);
      await snapshotRow.waitFor({ timeout: WAIT_MS });
      expect(await snapshotRow.locator('[data-field="snapshot-id"]').textContent()).toBe('snap-browser-1');
      expect(await snapshotRow.locator('[data-field="bytes"]').textContent()).toBe('1.2 MB');
      expect(await snapshotRow.locator('[data-field="bytes"]').getAttribute('title')).toBe('1234567 bytes');
      expect(await page.locator('#snapshots-empty').isHidden()).toBe(true);
      expect(await inPage(page, 'window.marker')).toBe(42);
      await page.screenshot({ path: path.join(ARTIFACTS, 'overview.png'), fullPage: true });

      // Open the ingestion from the list with the keyboard.
      await mixedRow.getByRole('link').focus();
      await page.keyboard.press('Enter');
      await page.locator('#detail').waitFor({ state: 'visible' });
      expect(await inPage(page, 'document.activeElement?.id')).toBe('detail-title');
      await expect.poll(() => page.locator('#detail-title').textContent()).toBe('orders-mixed.csv');
      await page.locator('#timeline li:not(.pending)').nth(3).waitFor();
      expect(await page.locator('#timeline .step').allTextContents()).toEqual([
        'Received',
        'Queued',
        'Started',
        'Committed',
      ]);

      // Its rejected rows, as the ledger has them.
      const rejects = (
        await db.pool.query<{ line: string; column_name: string; raw_value: string; reason: string }>(
          'SELECT line, column_name, raw_value, reason FROM inlet.rejects WHERE ingestion_id = $1 ORDER BY record',
          [mixed],
        )
      ).rows;
      expect(rejects).toHaveLength(2);
      const rows = page.locator('#rejects tbody tr');
      await expect.poll(() => rows.count()).toBe(2);
      for (const [i, reject] of rejects.entries()) {
        const cells = await rows.nth(i).locator('td').allTextContents();
        expect(cells[0]).toBe(reject.line);
        expect(cells[2]).toBe(reject.column_name);
        expect(cells[3]).toBe(reject.raw_value);
        expect(cells[4]).toBe(reject.reason);
      }
      expect(await page.locator('#rejects th[scope="col"]').allTextContents()).toEqual([
        'Line',
        'Record',
        'Column',
        'Value',
        'Reason',
      ]);

      // The CSV download goes through fetch with the token, and defuses formula cells.
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: WAIT_MS }),
        page.locator('#download-rejects').click(),
      ]);
      expect(download.suggestedFilename()).toBe(`rejects-${mixed}.csv`);
      const csv = await readFile(await download.path(), 'utf8');
      const lines = csv.split('\r\n');
      expect(lines[0]).toBe('line,record,column,value,reason');
      expect(lines[1]).toMatch(/^3,2,amount,"'=HYPERLINK\(""http:\/\/x""\)",/);
      expect(lines[2]).toMatch(/^5,4,amount,abc,/);
      expect(lines.slice(3)).toEqual(['']);
      await page.screenshot({ path: path.join(ARTIFACTS, 'ingestion.png'), fullPage: true });

      // A rejected file shows its error.
      await page.goto(`${running.service.url}/#/ingestions/${bad}`);
      await page.locator('#detail-error').waitFor({ state: 'visible' });
      const error = (
        await db.pool.query<{ error_code: string }>('SELECT error_code FROM inlet.ingestions WHERE id = $1', [
          bad,
        ])
      ).rows[0];
      expect(await page.locator('#error-code').textContent()).toBe(error?.error_code);

      expect(watched.errors).toEqual([]);
      expectOnlyThisService(watched);
    } finally {
      await watched.context.close();
    }
  });

  it("shows the columns an evolving file added (onDrift: evolve) and the DDL on the file's page", async () => {
    const id = '0190f1d2-0000-7000-8000-00000000e701';
    const contractChange = {
      version: 2,
      columns: [{ name: 'channel', type: 'text', source: 'Channel' }],
      ddl: 'ALTER TABLE "web"."orders" ADD COLUMN "channel" text',
    };
    await db.pool.query(
      `INSERT INTO inlet.ingestions (id, pipeline, source_uri, status, rows_loaded, rows_rejected,
                                     received_at, started_at, finished_at, details)
       VALUES ($1, 'orders', 'upload:///orders/evolved.csv', 'loaded', 3, 0, now(), now(), now(), $2)`,
      [id, JSON.stringify({ contractChange })],
    );
    const watched = await open();
    const { page } = watched;
    try {
      await page.goto(`${running.service.url}/#token=${BOOTSTRAP}`);
      await page.locator('#overview').waitFor({ state: 'visible' });
      await page.goto(`${running.service.url}/#/ingestions/${id}`);
      await page.locator('#detail-contract').waitFor({ state: 'visible' });
      expect(await page.locator('#contract-summary').textContent()).toBe(
        'This file added column "channel" text (from "Channel"): contract version 2.',
      );
      expect(await page.locator('#contract-ddl').textContent()).toBe(`${contractChange.ddl};`);
      expect(watched.errors).toEqual([]);
    } finally {
      await watched.context.close();
    }
  });

  it('pages back through a long history with "Load more", in the ledger order, and filters', async () => {
    // 130 older ingestions of one pipeline, a fifth of them rejected, written straight into the ledger.
    await db.pool.query(
      `INSERT INTO inlet.ingestions (id, pipeline, source_uri, status, rows_loaded, rows_rejected,
                                     received_at, started_at, finished_at)
       SELECT gen_random_uuid(), 'history', 'upload:///history/' || g || '.csv',
              CASE WHEN g % 5 = 0 THEN 'rejected' ELSE 'loaded' END, g, g % 5,
              t - interval '2 seconds', t - interval '1 second', t
         FROM generate_series(1, 130) AS g,
              LATERAL (SELECT now() - interval '1 day' - (g / 3) * interval '1 minute' AS t) AS x`,
    );
    const expected = (
      await db.pool.query<{ id: string }>(
        `SELECT id FROM inlet.ingestions WHERE pipeline = 'history'
          ORDER BY coalesce(finished_at, started_at, received_at) DESC, id`,
      )
    ).rows.map((row) => row.id);
    const watched = await open();
    const { page } = watched;
    try {
      await page.goto(`${running.service.url}/#token=${BOOTSTRAP}`);
      await page.locator('#overview').waitFor({ state: 'visible' });
      await page.goto(`${running.service.url}/#/?pipeline=history`);
      const rows = page.locator('#ingestions tbody tr');
      await expect.poll(() => rows.count()).toBe(50);
      expect(await page.locator('#filter-pipeline').inputValue()).toBe('history');
      const more = page.getByRole('button', { name: 'Load more' });
      for (const shown of [100, 130]) {
        await more.focus();
        await page.keyboard.press('Enter');
        await expect.poll(() => rows.count()).toBe(shown);
      }
      await more.waitFor({ state: 'hidden' });
      const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
      expect(ids).toEqual(expected);

      await page.locator('#filter-status').selectOption('rejected');
      await expect.poll(() => rows.count()).toBe(26);
      const statuses = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-status')));
      expect(new Set(statuses)).toEqual(new Set(['rejected']));
      expect(page.url()).toContain('#/?pipeline=history&status=rejected');
      expect(watched.errors).toEqual([]);
      expectOnlyThisService(watched);
    } finally {
      await watched.context.close();
    }
  });

  it('asks for a token with a labelled form, and asks again once the token is revoked', async () => {
    const watched = await open();
    const { page } = watched;
    try {
      await page.goto(`${running.service.url}/`);
      const input = page.getByLabel('API token');
      await input.waitFor({ state: 'visible' });
      expect(await inPage(page, 'document.activeElement?.id')).toBe('token-input');

      await input.fill('inlet_wrong');
      await page.keyboard.press('Enter');
      await expect
        .poll(() => page.locator('#token-error').textContent())
        .toMatch(/refused \(invalid_token\)/);

      const created = await createToken(db.pool, { name: 'browser', pipelines: ['events'] });
      await input.fill(created.token);
      await page.keyboard.press('Enter');
      await page.locator('#overview').waitFor({ state: 'visible' });
      expect(await inPage(page, 'document.activeElement?.id')).toBe('overview-title');
      // A token for `events` sees none of the orders files, and not the shared spool.
      await expect.poll(() => page.locator('[data-figure="spool-queue"]').textContent()).toBe('n/a');
      expect(await page.locator('#ingestions tbody tr').count()).toBe(0);
      // Nor the snapshots (they cover the whole spool): the panel stays hidden, without a refused request.
      expect(await page.locator('#snapshots-panel').isHidden()).toBe(true);

      await revokeToken(db.pool, created.id);
      await page.locator('#login').waitFor({ state: 'visible', timeout: WAIT_MS });
      expect(await page.locator('#token-error').textContent()).toMatch(/revoked_token/);
      expect(await inPage(page, "sessionStorage.getItem('inlet.token')")).toBeNull();
      expect(watched.errors.filter((e) => !e.includes('401'))).toEqual([]);
      expectOnlyThisService(watched);
    } finally {
      await watched.context.close();
    }
  });
});
