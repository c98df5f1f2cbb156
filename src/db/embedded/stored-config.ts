/** `<dataDir>/postgres.json`: the superuser's password, made once, and the port last used. */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DatabaseError } from '../../errors.js';
import { isErrno } from './failures.js';
import { CLUSTER_DIR, CONFIG_FILE } from './layout.js';

export interface StoredConfig {
  password: string;
  port?: number;
}

export async function loadOrCreateConfig(dataDir: string): Promise<StoredConfig> {
  const file = path.join(dataDir, CONFIG_FILE);
  const fresh: StoredConfig = { password: randomBytes(24).toString('base64url') };
  try {
    // 'wx' so two first runs agree on one password: the second reads the first one's file.
    await fs.writeFile(file, `${JSON.stringify(fresh, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return fresh;
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
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
  await fs.writeFile(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await fs.rename(temp, file);
}
