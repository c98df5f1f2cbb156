import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { createTargetTable } from '../../src/engine/create-table.js';
import { ingest } from '../../src/engine/ingest.js';
import type { IngestOptions } from '../../src/engine/ingest-options.js';
import type { Pipeline } from '../../src/model/contract.js';
import type { IngestResult, ObjectSource } from '../../src/model/ingestion.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { testPipeline } from './pipelines.js';

export type PipelineOverrides = Parameters<typeof testPipeline>[0];

/**
 * What an engine test file needs: its own database, a fresh table per test, and `run` with the COPY
 * format under test (every engine behaviour is checked with binary COPY and with the text fallback).
 * Call at the top level of a test file.
 */
export function engineHarness(prefix: string) {
  let db: TestDatabase | undefined;
  let counter = 0;
  const state = {
    copyFormat: 'auto' as 'auto' | 'text',
    get pool(): pg.Pool {
      if (db === undefined) throw new Error('the test database is not ready');
      return db.pool;
    },
  };
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  return {
    state,
    /** A pipeline on a new table (created unless `createTable: false`). */
    async freshPipeline(overrides: PipelineOverrides): Promise<Pipeline> {
      counter++;
      const pipeline = testPipeline({
        name: `${prefix}${counter}`,
        table: { schema: 'public', name: `${prefix}${counter}_${state.copyFormat}` },
        ...overrides,
      });
      if (pipeline.columns.length > 0) await createTargetTable(state.pool, pipeline);
      return pipeline;
    },
    run(
      source: ObjectSource,
      pipeline: Pipeline,
      options: Partial<IngestOptions> = {},
    ): Promise<IngestResult> {
      return ingest(source, pipeline, {
        pool: state.pool,
        copyFormat: state.copyFormat,
        retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
        ...options,
      });
    },
    async rows(pipeline: Pipeline, orderBy = '1'): Promise<Record<string, unknown>[]> {
      const result = await state.pool.query(
        `SELECT * FROM "${pipeline.table.schema}"."${pipeline.table.name}" ORDER BY ${orderBy}`,
      );
      return result.rows;
    },
    async ledger(id: string | null): Promise<Record<string, unknown> | undefined> {
      const result = await state.pool.query(
        'SELECT status, error_code, error_message, details, rows_loaded, rows_rejected FROM inlet.ingestions WHERE id = $1',
        [id],
      );
      return result.rows[0];
    },
  };
}

export const COPY_FORMATS = [
  ['binary COPY', 'auto'],
  ['text COPY', 'text'],
] as const;

/**
 * The ledger's details for a file that brings "amt" where the contract has "amount": the drift diff does not
 * depend on the format, so the drift tests of each format expect this same value.
 */
export const AMOUNT_RENAMED_TO_AMT_DETAILS = {
  drift: {
    missing: ['amount'],
    unexpected: ['amt'],
    renamed: [{ from: 'amt', to: 'amount' }],
    repeated: [],
    action: 'rejected',
  },
} as const;
