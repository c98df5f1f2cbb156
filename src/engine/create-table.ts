import type pg from 'pg';
import { quoteIdent, quoteTable } from '../db/sql.js';
import type { Pipeline } from '../model/contract.js';

/** `CREATE TABLE IF NOT EXISTS` from the contract, with the key as primary key. */
export function createTableSql(pipeline: Pipeline): string {
  const columns = pipeline.columns.map(
    (c) =>
      `${quoteIdent(c.name)} ${c.type.sql}${c.nullable && !pipeline.key.includes(c.name) ? '' : ' NOT NULL'}`,
  );
  if (pipeline.key.length > 0) columns.push(`PRIMARY KEY (${pipeline.key.map(quoteIdent).join(', ')})`);
  return `CREATE TABLE IF NOT EXISTS ${quoteTable(pipeline.table)} (\n  ${columns.join(',\n  ')}\n)`;
}

/**
 * Creates the pipeline's schema and table when missing. Serialised on an advisory lock because two
 * concurrent `CREATE TABLE IF NOT EXISTS` of one name can still collide in PostgreSQL's catalog.
 */
export async function createTargetTable(pool: pg.Pool, pipeline: Pipeline): Promise<void> {
  // An infer: true pipeline without columns has no contract yet: its first file creates the table.
  if (pipeline.columns.length === 0) return;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('inlet.create-table'))`);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(pipeline.table.schema)}`);
    await client.query(createTableSql(pipeline));
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
