import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { runInlet } from './cli.js';
import { createTestDatabase, type TestDatabase } from './db.js';

/**
 * What a CLI test file needs: its own database and temporary folder, and `inlet` run with its data in that
 * folder and without the developer's INLET_CONFIG, INLET_LOG_LEVEL and INLET_EXAMPLES, which would change
 * what it prints or loads.
 * `databaseUrl: false` leaves DATABASE_URL unset, for commands that must be given --database-url.
 * Call at the top level of a test file.
 */
export function cliWorkspace(tmpPrefix: string, { databaseUrl = true }: { databaseUrl?: boolean } = {}) {
  let db: TestDatabase | undefined;
  let dir: string | undefined;
  let env: NodeJS.ProcessEnv | undefined;
  beforeAll(async () => {
    db = await createTestDatabase();
    dir = await mkdtemp(join(tmpdir(), tmpPrefix));
    env = { ...process.env, INLET_DATA_DIR: join(dir, '.inlet'), NO_COLOR: '1' };
    if (databaseUrl) env.DATABASE_URL = db.url;
    else delete env.DATABASE_URL;
    delete env.INLET_CONFIG;
    delete env.INLET_LOG_LEVEL;
    delete env.INLET_EXAMPLES;
  });
  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the CLI workspace is not ready');
    return value;
  };
  return {
    get db(): TestDatabase {
      return ready(db);
    },
    get dir(): string {
      return ready(dir);
    },
    /** The environment `inlet` runs with, for processes a test starts itself. */
    get env(): NodeJS.ProcessEnv {
      return ready(env);
    },
    inlet: (...args: string[]) => runInlet(args, ready(env)),
  };
}
