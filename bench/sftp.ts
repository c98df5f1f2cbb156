/**
 * The SFTP section of `npm run bench` (alone: `BENCH_ONLY=sftp npm run bench`): a file put with OpenSSH's
 * `sftp` client into Inlet's SFTP door (until its CLOSE is answered: the file durable in the spool and
 * queued), beside the same put into OpenSSH's own `sftp-server` behind a throwaway `sshd` on a loopback
 * port, when `sshd` is installed. Both receive into the same disk. The file is a CSV whose header the bench
 * pipeline does not take, so its load ends at once and does not compete with the next put.
 * BENCH_SFTP_MB (default 100) sets the file's size; BENCH_REPEATS the runs (median).
 */
import { execFile, spawn } from 'node:child_process';
import { access, mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import type pg from 'pg';
import { parseConfig } from '../src/config/load.js';
import { startUploadService } from '../src/server/service.js';
import { parsePublicKeys } from '../src/server/sftp/keys.js';
import { addUser } from '../src/server/sftp/users.js';
import { tableRow } from './table.js';

const run = promisify(execFile);
const SSHD = '/usr/sbin/sshd';
const SFTP_SERVER = '/usr/lib/openssh/sftp-server';

export interface SftpBenchOptions {
  readonly work: string;
  readonly pool: pg.Pool;
  readonly repeats: number;
  readonly megabytes?: number;
}

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

/** `sftp -b -` putting `file` to `target`; resolves with the seconds the whole client took. */
async function timedPut(
  port: number,
  user: string,
  key: string,
  file: string,
  target: string,
): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const child = execFile(
      'sftp',
      [
        '-b',
        '-',
        '-P',
        String(port),
        '-i',
        key,
        '-F',
        '/dev/null',
        '-o',
        'StrictHostKeyChecking=no',
        '-o',
        'UserKnownHostsFile=/dev/null',
        '-o',
        'BatchMode=yes',
        '-o',
        'IdentitiesOnly=yes',
        '-o',
        'LogLevel=ERROR',
        `${user}@127.0.0.1`,
      ],
      { timeout: 300_000 },
      (error, _stdout, stderr) => (error ? reject(new Error(`sftp put failed: ${stderr}`)) : resolve()),
    );
    child.stdin?.end(`put ${file} ${target}\n`);
  });
  return (performance.now() - started) / 1000;
}

export async function benchSftp(options: SftpBenchOptions): Promise<string[]> {
  const megabytes = options.megabytes ?? Number(process.env.BENCH_SFTP_MB ?? 100);
  const dir = join(options.work, 'sftp');
  await mkdir(dir, { recursive: true });
  const key = join(dir, 'client_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
  const file = join(dir, 'put.csv');
  {
    const handle = await open(file, 'w');
    const line = Buffer.from(`not,the,header\n${'1,2,3\n'.repeat(10_000)}`);
    for (let written = 0; written < megabytes * 1e6; written += line.length) await handle.write(line);
    await handle.close();
  }
  const bytes = megabytes * 1e6;

  const config = parseConfig(
    JSON.stringify({
      pipelines: [
        {
          name: 'bench_sftp',
          match: ['**'],
          format: 'csv',
          table: 'public.bench_sftp',
          createTable: true,
          columns: [{ name: 'id', type: 'integer' }],
        },
      ],
    }),
    'sftp bench',
  );
  await options.pool.query('DELETE FROM inlet.sftp_users WHERE name = $1', ['bench']);
  await addUser(options.pool, {
    name: 'bench',
    pipelines: ['bench_sftp'],
    keys: parsePublicKeys(await readFile(`${key}.pub`, 'utf8'), `${key}.pub`),
  });
  const service = await startUploadService({
    config,
    pool: options.pool,
    spoolDir: join(dir, 'spool'),
    port: 0,
    minFreeBytes: 0,
    maxUploadBytes: 2 * bytes,
    workers: 1,
    sftp: { port: 0, hostKeyFile: join(dir, 'host_key'), maxSessionsPerUser: 4, idleTimeoutMs: 600_000 },
  });
  const inletTimes: number[] = [];
  try {
    for (let i = 0; i < options.repeats; i++) {
      inletTimes.push(
        await timedPut(service.sftp?.port as number, 'bench', key, file, `/inbound/bench_sftp/put-${i}.csv`),
      );
    }
  } finally {
    await service.stop();
  }
  const inlet = median(inletTimes);
  const rate = (seconds: number) => `${fmt(bytes / 1e6 / seconds, 0)} MB/s`;

  const reference = await referenceTimes(dir, key, file, options.repeats);
  if (reference === undefined) {
    return [tableRow(`SFTP put of ${megabytes} MB into the spool`, rate(inlet), 'sshd not installed', '-')];
  }
  const ref = median(reference);
  return [
    tableRow(
      `SFTP put of ${megabytes} MB vs OpenSSH sftp-server (goal >= 0.5x)`,
      rate(inlet),
      rate(ref),
      `${fmt(ref / inlet)}x`,
    ),
  ];
}

/** The same put into OpenSSH's sftp-server behind a throwaway sshd; undefined when sshd is not installed. */
async function referenceTimes(
  dir: string,
  key: string,
  file: string,
  repeats: number,
): Promise<number[] | undefined> {
  if (!(await exists(SSHD)) || !(await exists(SFTP_SERVER))) return undefined;
  const hostKey = join(dir, 'sshd_host_key');
  await run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${key}.pub`, 'utf8'));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const user = (await run('id', ['-un'])).stdout.trim();
  const configFile = join(dir, 'sshd_config');
  await writeFile(
    configFile,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'PermitRootLogin prohibit-password',
      `Subsystem sftp ${SFTP_SERVER}`,
      '',
    ].join('\n'),
  );
  // sshd wants its privilege-separation directory.
  await mkdir('/run/sshd', { recursive: true }).catch(() => undefined);
  const sshd = spawn(SSHD, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  sshd.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  try {
    for (let i = 0; i < 50 && !stderr.includes('listening'); i++) await sleep(100);
    if (!stderr.includes('listening')) {
      console.error(`# the reference sshd did not start: ${stderr.trim()}`);
      return undefined;
    }
    const times: number[] = [];
    for (let i = 0; i < repeats; i++)
      times.push(await timedPut(port, user, key, file, join(dir, `ref-${i}.csv`)));
    return times;
  } finally {
    sshd.kill('SIGTERM');
  }
}
