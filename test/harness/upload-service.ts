import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/config/load.js';
import type { InletConfig } from '../../src/model/contract.js';
import type { IngestResult } from '../../src/model/ingestion.js';
import {
  startUploadService,
  type UploadService,
  type UploadServiceOptions,
} from '../../src/server/service.js';
import type { SpoolEntry } from '../../src/server/spool.js';
import type { TestDatabase } from './db.js';

export const BOOTSTRAP = 'test-bootstrap-token';

/** Two pipelines: `orders` (CSV, upsert on id) and `events` (NDJSON, append), each in its own table. */
export function uploadConfig(schema: string, extra: Record<string, unknown> = {}): InletConfig {
  return parseConfig(
    JSON.stringify({
      pipelines: [
        {
          name: 'orders',
          match: ['orders/**', '*.orders.csv', 'orders*.csv'],
          format: 'csv',
          table: `${schema}.orders`,
          createTable: true,
          mode: 'upsert',
          key: ['id'],
          columns: [
            { name: 'id', type: 'bigint', nullable: false },
            { name: 'amount', type: 'numeric(12,2)' },
            { name: 'note', type: 'text' },
          ],
          rejects: { maxRatio: 0.5 },
          ...extra,
        },
        {
          name: 'events',
          match: ['events/**', '*.ndjson'],
          format: 'ndjson',
          table: `${schema}.events`,
          createTable: true,
          columns: [
            { name: 'kind', type: 'text', nullable: false },
            { name: 'at', type: 'timestamptz' },
          ],
        },
      ],
    }),
    'upload test config',
  );
}

export interface RunningService {
  service: UploadService;
  spoolDir: string;
  finished: { entry: SpoolEntry; result: IngestResult }[];
  /** Resolves when `count` files have finished in total. */
  waitFinished(count: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export async function runService(
  db: TestDatabase,
  config: InletConfig,
  options: Partial<UploadServiceOptions> = {},
): Promise<RunningService> {
  const spoolDir = options.spoolDir ?? (await mkdtemp(path.join(tmpdir(), 'inlet-spool-')));
  const finished: RunningService['finished'] = [];
  const waiters: { count: number; resolve: () => void }[] = [];
  const service = await startUploadService({
    config,
    pool: db.pool,
    spoolDir,
    port: 0,
    bootstrapToken: BOOTSTRAP,
    minFreeBytes: 0,
    worker: { pollMs: 50, backoffMs: 50, maxBackoffMs: 200 },
    ...options,
    onFinished: (entry, result) => {
      finished.push({ entry, result });
      for (const waiter of waiters.filter((w) => finished.length >= w.count)) waiter.resolve();
      options.onFinished?.(entry, result);
    },
  });
  return {
    service,
    spoolDir,
    finished,
    waitFinished: (count, timeoutMs = 20_000) =>
      finished.length >= count
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            const timer = setTimeout(
              () =>
                reject(new Error(`only ${finished.length} of ${count} files finished in ${timeoutMs} ms`)),
              timeoutMs,
            );
            waiters.push({
              count,
              resolve: () => {
                clearTimeout(timer);
                resolve();
              },
            });
          }),
    stop: async () => {
      await service.stop();
      if (options.spoolDir === undefined) await rm(spoolDir, { recursive: true, force: true });
    },
  };
}

/** fetch with the bootstrap token unless `token` says otherwise (null: no Authorization header). */
export function api(
  service: UploadService,
  route: string,
  init: RequestInit & { token?: string | null } = {},
): Promise<Response> {
  const { token = BOOTSTRAP, headers, ...rest } = init;
  const all = new Headers(headers);
  if (token !== null) all.set('authorization', `Bearer ${token}`);
  return fetch(`${service.url}${route}`, { ...rest, headers: all });
}
