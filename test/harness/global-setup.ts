/**
 * One PostgreSQL for the whole run: DATABASE_URL when set (CI with a real server), otherwise a
 * throwaway embedded cluster in a fresh temp directory, deleted at teardown. Test files get their
 * own database on it through createTestDatabase().
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { createPool } from '../../src/db/connect.js';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { migrate } from '../../src/db/migrate.js';
import { quoteIdent } from '../../src/db/sql.js';
import { buildCliForTests } from './cli-build.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's server (its default database); createTestDatabase() swaps in its own database. */
    databaseUrl: string;
    /** `-D` of the embedded cluster for pgCtl(); '' when DATABASE_URL is used (no fault injection then). */
    pgDataDir: string;
    /** Directory of the bundled pg_ctl; '' when DATABASE_URL is used. */
    pgBinDir: string;
    /** A database migrated once for this run; createTestDatabase() copies it instead of migrating each time. */
    templateDatabase: string;
    /** The CLI's entry, transpiled once for the run (test/harness/cli-build.ts). */
    cliEntry: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((err: unknown) => console.error(err));
  };
  try {
    const external = process.env.DATABASE_URL;
    let url: string;
    if (external !== undefined && external.trim() !== '') {
      url = external;
      project.provide('pgDataDir', '');
      project.provide('pgBinDir', '');
    } else {
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'inlet-test-pg-'));
      cleanups.push(() => fs.rm(dataDir, { recursive: true, force: true }));
      // mkdtemp makes it 0700; as root the server runs as the postgres OS user, which must enter it.
      await fs.chmod(dataDir, 0o711);
      const server = await startEmbeddedPostgres({ dataDir, ephemeral: true });
      cleanups.push(() => server.stop());
      url = server.url;
      project.provide('pgDataDir', server.pgDataDir);
      project.provide('pgBinDir', server.binDir);
    }
    project.provide('databaseUrl', url);

    // Unique per run so runs sharing one DATABASE_URL server do not collide.
    const template = `inlet_test_template_${randomBytes(4).toString('hex')}`;
    const admin = createPool(url, { max: 1, applicationName: 'inlet-test-admin' });
    cleanups.push(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(template)} WITH (FORCE)`);
      await admin.end();
    });
    await admin.query(`CREATE DATABASE ${quoteIdent(template)}`);
    const templateUrl = new URL(url);
    templateUrl.pathname = `/${template}`;
    const templatePool = createPool(templateUrl.toString(), { max: 1 });
    try {
      await migrate(templatePool);
    } finally {
      // CREATE DATABASE ... TEMPLATE refuses a template that has open connections.
      await templatePool.end();
    }
    project.provide('templateDatabase', template);

    const cli = await buildCliForTests(path.resolve(import.meta.dirname, '../..'));
    cleanups.push(cli.remove);
    project.provide('cliEntry', cli.entry);
  } catch (err) {
    await teardown();
    throw err;
  }
  return teardown;
}
