/** `<dataDir>/postgres.json`: the superuser's password, made once, and the port last used. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DatabaseError } from '../../errors.js';
import { createFileOnce, durableRename, writeSynced } from '../../storage/durable.js';
import { CLUSTER_DIR, CONFIG_FILE } from './layout.js';

export interface StoredConfig {
  password: string;
  port?: number;
}

export async function loadOrCreateConfig(dataDir: string): Promise<StoredConfig> {
  const file = path.join(dataDir, CONFIG_FILE);
  const fresh: StoredConfig = { password: randomBytes(24).toString('base64url') };
  // Once, so two first runs agree on one password (the second reads the first one's file), and whole: a first
  // run killed while writing it must not leave a file every later run refuses.
  if (await createFileOnce(file, `${JSON.stringify(fresh, null, 2)}\n`, 0o600)) return fresh;
  const text = await fs.readFile(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const candidate = parsed as Partial<StoredConfig> | undefined;
  if (typeof candidate?.password !== 'string' || candidate.password === '') {
    throw new DatabaseError(
      'db_embedded_config',
      `${file} is not valid (expected {"password": "...", "port": 5432}). Restore it; if the cluster in ${path.join(dataDir, CLUSTER_DIR)} holds nothing you need, delete both.`,
    );
  }
  const port = candidate.port;
  return { password: candidate.password, ...(Number.isInteger(port) ? { port: port as number } : {}) };
}

export async function saveConfig(dataDir: string, config: StoredConfig): Promise<void> {
  const file = path.join(dataDir, CONFIG_FILE);
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // Synced before the rename: the file holds the cluster's only password, and a crash must leave the old one
  // or the new one, not a name pointing at data never written.
  await writeSynced(temp, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  await durableRename(temp, file);
}
