/**
 * INLET_DATABASE_SECRET_ARN: Secrets Manager cannot run here, so the SDK client's transport is stubbed and
 * checked against the documented GetSecretValue request (JSON 1.1 protocol); the credentials it returns
 * open real connections to a real PostgreSQL, including after a rotation.
 */
import { Readable } from 'node:stream';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool } from '../../../src/db/connect.js';
import { databaseFromSecret, parseDatabaseSecret } from '../../../src/db/secret.js';
import { ConfigError } from '../../../src/errors.js';
import { createTestDatabase, type TestDatabase } from '../../harness/db.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:inlet/db-AbCdEf';
const ROLE = `inlet_secret_${Date.now().toString(36)}`;

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(`CREATE ROLE ${ROLE} LOGIN PASSWORD 'first-password'`);
});

afterAll(async () => {
  // Roles belong to the cluster, not the test database: drop it while a connection is still open.
  await db?.pool.query(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
  await db?.drop();
});

interface Captured {
  method: string;
  target: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

/** A SecretsManagerClient whose HTTP layer answers from `secret()` and records each request. */
function stubbedClient(secret: () => Record<string, unknown> | { status: number; error: string }) {
  const requests: Captured[] = [];
  const client = new SecretsManagerClient({
    region: 'eu-west-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    requestHandler: {
      handle: async (request: { method: string; headers: Record<string, string>; body?: unknown }) => {
        requests.push({
          method: request.method,
          target: request.headers['x-amz-target'],
          contentType: request.headers['content-type'],
          body: JSON.parse(String(request.body)),
        });
        const answer = secret();
        const failed = 'status' in answer;
        const payload = failed
          ? {
              __type: answer.error,
              message: 'User is not authorized to perform secretsmanager:GetSecretValue',
            }
          : {
              ARN,
              Name: 'inlet/db',
              VersionId: 'EXAMPLE1-90ab-cdef-fedc-ba987SECRET1',
              VersionStages: ['AWSCURRENT'],
              SecretString: JSON.stringify(answer),
              CreatedDate: 1.523477145713e9,
            };
        return {
          response: {
            statusCode: failed ? (answer.status as number) : 200,
            headers: { 'content-type': 'application/x-amz-json-1.1' },
            body: Readable.from([Buffer.from(JSON.stringify(payload))]),
          },
        };
      },
    } as never,
  });
  return { client, requests };
}

function secretFor(password: string): Record<string, unknown> {
  const url = new URL(db.url);
  return {
    engine: 'postgres',
    host: url.hostname,
    port: Number(url.port),
    username: ROLE,
    password,
    dbname: db.name,
  };
}

describe('databaseFromSecret', () => {
  it('sends the documented GetSecretValue request and connects with what the secret holds', async () => {
    const { client, requests } = stubbedClient(() => secretFor('first-password'));
    const database = await databaseFromSecret(ARN, { client, sslmode: 'disable' });
    expect(requests).toEqual([
      {
        method: 'POST',
        target: 'secretsmanager.GetSecretValue',
        contentType: 'application/x-amz-json-1.1',
        body: { SecretId: ARN },
      },
    ]);
    expect(database.url).not.toContain('first-password');
    expect(database.url).toContain(`${ROLE}@`);
    const pool = createPool(database.url, { max: 1, password: database.password });
    try {
      const { rows } = await pool.query('SELECT current_user AS who, current_database() AS db');
      expect(rows).toEqual([{ who: ROLE, db: db.name }]);
    } finally {
      await pool.end();
    }
  });

  it('reads the secret again after a minute, so a rotated password works without a restart', async () => {
    let password = 'first-password';
    let clock = 1_000_000;
    const { client, requests } = stubbedClient(() => secretFor(password));
    const database = await databaseFromSecret(ARN, { client, sslmode: 'disable', now: () => clock });
    await db.pool.query(`ALTER ROLE ${ROLE} PASSWORD 'rotated-password'`);
    password = 'rotated-password';
    clock += 61_000;
    const pool = createPool(database.url, { max: 1, password: database.password });
    try {
      const { rows } = await pool.query('SELECT current_user AS who');
      expect(rows).toEqual([{ who: ROLE }]);
      expect(requests).toHaveLength(2);
    } finally {
      await pool.end();
      await db.pool.query(`ALTER ROLE ${ROLE} PASSWORD 'first-password'`);
    }
  });

  it('connects to INLET_DATABASE_HOST (the RDS Proxy) rather than the instance the secret names', async () => {
    const real = new URL(db.url).hostname;
    const { client } = stubbedClient(() => ({
      ...secretFor('first-password'),
      host: 'db-instance.internal',
    }));
    const database = await databaseFromSecret(ARN, { client, sslmode: 'disable', host: real });
    expect(new URL(database.url).hostname).toBe(real);
    const pool = createPool(database.url, { max: 1, password: database.password });
    try {
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }
  });

  it('says what to check when the secret cannot be read', async () => {
    const { client } = stubbedClient(() => ({ status: 400, error: 'AccessDeniedException' }));
    const failure = await databaseFromSecret(ARN, { client }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ConfigError);
    expect((failure as ConfigError).code).toBe('secret_unreadable');
    expect((failure as Error).message).toContain(ARN);
    expect((failure as Error).message).toContain('secretsmanager:GetSecretValue');
  });
});

describe('parseDatabaseSecret', () => {
  it('names what a secret lacks, and defaults port and database', () => {
    expect(() => parseDatabaseSecret(ARN, 'not json')).toThrow(/is not JSON/);
    expect(() => parseDatabaseSecret(ARN, '{"username":"u"}')).toThrow(/lacks password, host/);
    expect(parseDatabaseSecret(ARN, '{"username":"u","password":"p","host":"h"}')).toEqual({
      username: 'u',
      password: 'p',
      host: 'h',
      port: 5432,
      dbname: 'postgres',
    });
  });
});
