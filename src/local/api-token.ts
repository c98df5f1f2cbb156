import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createFileOnce } from '../storage/durable.js';

/**
 * The bootstrap token `inlet dev` accepts: INLET_API_TOKEN when set, else one generated on first start
 * and kept (mode 0600) in the data directory, so the printed curl command works across restarts.
 */
export async function localApiToken(dataDir: string, fromEnv: string | undefined): Promise<string> {
  if (fromEnv !== undefined && fromEnv.trim() !== '') return fromEnv.trim();
  const file = join(dataDir, 'api-token');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored !== '') return stored;
  } catch {
    // First start: make one below.
  }
  const token = `inlet_dev_${randomBytes(24).toString('base64url')}`;
  await mkdir(dataDir, { recursive: true });
  // Whole or not at all, and once: a start killed while writing it, or two starting together, must not leave
  // a token other than the one printed.
  if (await createFileOnce(file, `${token}\n`, 0o600)) return token;
  return (await readFile(file, 'utf8')).trim();
}
