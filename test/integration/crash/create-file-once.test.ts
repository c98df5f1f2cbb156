/**
 * createFileOnce (src/storage/durable.ts), which generates the files a process makes once and keeps (the SFTP
 * host key, the snapshot key, the embedded database's password, the local stack's token and credentials):
 * killed at any instant, it leaves no file at the name or the whole one. Creating the name first and writing
 * after left it empty or cut short, and the next start refused it (the upload API's crash suite found an SFTP
 * host key cut so, seed 782221417).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../harness/cli.js';
import { crashSeeds, Random } from '../../harness/crash.js';
import { createOncePayload } from '../../harness/create-once-payload.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'inlet-create-once-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('createFileOnce killed at random instants', () => {
  it.each(crashSeeds(3))('leaves every name empty of a file or holding all of it (seed %i)', async (seed) => {
    const random = new Random(seed);
    const runDir = await mkdtemp(join(dir, `run-${seed}-`));
    for (let kill = 0; kill < 4; kill++) {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'test/harness/create-once-child.ts'), join(runDir)],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
      await sleep(random.int(5, 250));
      child.kill('SIGKILL');
      await exited;
      // Each run begins again at file-0: the names made stay as they are, and the first new one is the kill's.
      const names = (await readdir(runDir)).filter((name) => /^file-\d+$/.test(name));
      for (const name of names) {
        const i = Number(name.slice('file-'.length));
        const held = await readFile(join(runDir, name));
        expect(held.equals(createOncePayload(i)), `${name} (seed ${seed}, kill ${kill + 1})`).toBe(true);
      }
    }
  });
});
