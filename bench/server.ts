/**
 * The upload service's section of `npm run bench` (alone: `BENCH_ONLY=server npm run bench`). Each figure
 * stands beside a reference measured in the same run:
 *  - latency: small CSV files sent one at a time with PUT /v1/files/{name}, from the client's 202 to the
 *    worker's commit (the service's onFinished, which fires after the ledger commit and the spool move),
 *    beside ingest() called directly on the same kind of file;
 *  - acceptance: 202s per second from 50 keep-alive clients, beside a bare node:http server that only makes
 *    each upload durable (write, fsync, rename, fsync the directory) and answers 201;
 *    and, on Linux, the main thread's CPU per upload beside the bare server's: it holds the clients and the
 *    accepting side only (the workers have a thread of their own), and moves little with the machine's load;
 *  - drain: rows committed per second from the first upload to the last commit, beside ingest() called
 *    directly by as many concurrent callers as the service has workers.
 * The last two are measured in rounds (bare, service, its drain, ingest(); then again), and each figure is
 * the round with the median ratio: on a machine shared with other work, the load changes from one second to
 * the next, and a single pair taken one after the other measured that as much as Inlet.
 * BENCH_SERVER_FILES (default 200), BENCH_SERVER_UPLOADS (default 1,000 per round) and BENCH_SERVER_ROUNDS
 * (default 3) set the counts. The service runs
 * with the production defaults of `inlet serve` (workers, pool size), except the per-token rate limit, which
 * would refuse the bench's single token after 600 uploads a minute. Loopback only; every loop is bounded
 * and every wait has a deadline.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { poolSizeFor } from '../src/cli/run/serve.js';
import { parseConfig } from '../src/config/load.js';
import { createPool } from '../src/db/connect.js';
import { ingest } from '../src/engine/ingest.js';
import type { Pipeline } from '../src/model/contract.js';
import type { IngestResult, ObjectSource } from '../src/model/ingestion.js';
import { startUploadService, type UploadService } from '../src/server/service.js';
import { serverSettings } from '../src/server/settings.js';
import { ORDERS_COLUMNS, orderRow } from './orders-data.js';
import { tableRow } from './table.js';

export interface ServerBenchOptions {
  /** The database the service loads into. */
  url: string;
  /** A scratch directory; the spool and the bare server's files go under it. */
  work: string;
  /** Files sent one at a time for the latency figures; default BENCH_SERVER_FILES, else 200. */
  files?: number;
  /** Files sent by the concurrent clients in each round; default BENCH_SERVER_UPLOADS, else 1,000. */
  uploads?: number;
  /** Rounds of the concurrent figures; default BENCH_SERVER_ROUNDS, else 3. */
  rounds?: number;
}

const ROWS_PER_FILE = 20;
const CLIENTS = 50;
/** Sent before the timed latency files: the first ones pay for CREATE TABLE and cold code paths. */
const WARMUP_FILES = 5;
const REQUEST_TIMEOUT_MS = 60_000;
const COMMIT_TIMEOUT_MS = 60_000;
const HEADER = 'order_id,placed_at,customer,amount,paid\n';
const TOKEN = `bench-${Date.now().toString(36)}`;

const fmt = (n: number, digits = 2) => n.toFixed(digits);
const ms = (n: number) => `${fmt(n, 1)} ms`;
const perSecond = (n: number) => `${Math.round(n).toLocaleString('en')} /s`;
const rowsPerSecond = (n: number) => `${fmt(n / 1000, 1)} k rows/s`;

/** Nearest-rank percentile: with fewer than 100 samples, p99 is the largest. */
function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1] as number;
}

function countFromEnv(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${name} must be a whole number >= 1, got "${raw}"`);
  return value;
}

/**
 * Row numbers for the files, unique per run: with DATABASE_URL the ledger outlives the run, and a file
 * whose name and content were loaded before would end as a duplicate instead of being loaded.
 */
function rowNumbers(): () => number {
  let next = (Date.now() % 1_000_000_000) * 1000;
  return () => {
    const first = next;
    next += ROWS_PER_FILE;
    return first;
  };
}

function csvFile(first: number): Buffer {
  let text = HEADER;
  for (let i = first; i < first + ROWS_PER_FILE; i++) text += orderRow(i);
  return Buffer.from(text);
}

function memorySource(name: string, bytes: Buffer): ObjectSource {
  return {
    uri: `memory://bench/${name}`,
    name,
    size: bytes.length,
    open: async () => Readable.from([bytes], { objectMode: false }),
  };
}

function expectLoaded(result: IngestResult, what: string): void {
  if (result.status !== 'loaded' || result.rowsLoaded !== ROWS_PER_FILE) {
    throw new Error(
      `${what}: ${result.status} with ${result.rowsLoaded} rows${result.error ? `: ${result.error.message}` : ''}`,
    );
  }
}

/** When each ingestion the service finished was committed, by spool id (which is the ingestion id). */
class Commits {
  private readonly seen = new Map<string, { at: number; result: IngestResult }>();
  private pending: { ids: Set<string>; resolve: () => void } | undefined;

  record(id: string, result: IngestResult): void {
    this.seen.set(id, { at: performance.now(), result });
    const pending = this.pending;
    if (pending?.ids.delete(id) && pending.ids.size === 0) pending.resolve();
  }

  /** The commit time of `id`, after checking it loaded every row. */
  at(id: string): number {
    const commit = this.seen.get(id);
    if (commit === undefined) throw new Error(`upload ${id} has not finished`);
    expectLoaded(commit.result, `upload ${id}`);
    return commit.at;
  }

  /** Resolves once every id has finished; rejects after `timeoutMs`. */
  async wait(ids: readonly string[], timeoutMs: number): Promise<void> {
    const missing = new Set(ids.filter((id) => !this.seen.has(id)));
    if (missing.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.pending = { ids: missing, resolve };
        timer = setTimeout(
          () =>
            reject(new Error(`${missing.size} of ${ids.length} uploads not committed after ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
    } finally {
      clearTimeout(timer);
      this.pending = undefined;
    }
  }
}

interface Reply {
  status: number;
  /** performance.now() when the status line and headers arrived. */
  at: number;
  body: string;
}

function put(agent: http.Agent, base: string, name: string, body: Buffer): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      new URL(`/v1/files/${name}`, base),
      {
        method: 'PUT',
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'text/csv',
          'content-length': body.length,
        },
      },
      (response) => {
        const at = performance.now();
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, at, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

function ingestionIdOf(reply: Reply): string {
  if (reply.status !== 202) throw new Error(`upload answered ${reply.status}: ${reply.body}`);
  return (JSON.parse(reply.body) as { ingestionId: string }).ingestionId;
}

/**
 * CPU time (user + system) the process's main thread has used, in ms, where Linux says it per thread
 * (`/proc/self/task/<pid>/stat`, in clock ticks of 10 ms); undefined elsewhere. The main thread runs the bench's
 * clients and the server being measured, and for the upload service nothing else: its workers have a thread of
 * their own. Unlike a rate, it hardly moves when other work on the machine takes the cores.
 */
function mainThreadCpuMs(): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

interface Burst {
  /** From the first request to the last answer. */
  seconds: number;
  startedAt: number;
  lastAnswerAt: number;
  accepted: number;
  /** Inlet's ingestion ids, from the 202 bodies. */
  ids: string[];
  /** Answers other than the expected status, and transport errors, by kind. */
  refused: Map<string, number>;
  /** The main thread's CPU time over the burst, in ms, where the platform says it. */
  mainCpuMs: number | undefined;
}

/** `bodies.length` uploads from CLIENTS keep-alive connections, each client sending its next file as soon as it has an answer. */
async function burst(
  base: string,
  bodies: readonly Buffer[],
  name: (i: number) => string,
  expected: number,
): Promise<Burst> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
  const ids: string[] = [];
  const refused = new Map<string, number>();
  let accepted = 0;
  let next = 0;
  let lastAnswerAt = 0;
  const client = async () => {
    while (next < bodies.length) {
      const i = next++;
      let kind: string;
      try {
        const reply = await put(agent, base, name(i), bodies[i] as Buffer);
        lastAnswerAt = Math.max(lastAnswerAt, reply.at);
        if (reply.status === expected) {
          accepted++;
          if (expected === 202) ids.push(ingestionIdOf(reply));
          continue;
        }
        kind = String(reply.status);
      } catch (error) {
        kind = (error as NodeJS.ErrnoException).code ?? 'error';
      }
      refused.set(kind, (refused.get(kind) ?? 0) + 1);
    }
  };
  const startedAt = performance.now();
  const cpuBefore = mainThreadCpuMs();
  try {
    await Promise.all(Array.from({ length: CLIENTS }, client));
  } finally {
    agent.destroy();
  }
  const cpuAfter = mainThreadCpuMs();
  const mainCpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return {
    seconds: (lastAnswerAt - startedAt) / 1000,
    startedAt,
    lastAnswerAt,
    accepted,
    ids,
    refused,
    mainCpuMs,
  };
}

/**
 * The floor for a durable upload: per request, stream the body into a new file, fsync it, rename it into
 * place, fsync the directory, answer 201. No routing, authentication, hashing or ledger.
 */
async function startBareServer(dir: string): Promise<{ url: string; close(): Promise<void> }> {
  const staging = join(dir, 'tmp');
  const done = join(dir, 'done');
  await mkdir(staging, { recursive: true });
  await mkdir(done, { recursive: true });
  let sequence = 0;
  const store = async (request: http.IncomingMessage) => {
    const name = String(++sequence);
    const file = await open(join(staging, name), 'wx');
    try {
      for await (const chunk of request) await file.write(chunk as Buffer);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(join(staging, name), join(done, name));
    const directory = await open(done, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
  };
  const server = http.createServer((request, response) => {
    store(request).then(
      () => {
        response.statusCode = 201;
        response.end();
      },
      (error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const execFileAsync = promisify(execFile);

/**
 * Starts a burst on a settled disk: PostgreSQL's dirty buffers written (CHECKPOINT) and the kernel's dirty
 * pages with them (`sync`, where there is one). Without it, the writes the service's drain left behind (its
 * loads, their WAL, the spool's moves) met the next burst in its fsyncs, the bare server's as much as
 * Inlet's: a change that only moved when the drain wrote moved the bare server's rate, and the ratio with
 * it. Best effort: a role that may not CHECKPOINT, or no `sync`, leaves the disk as it is.
 */
async function settleDisk(pool: ReturnType<typeof createPool>): Promise<void> {
  await pool.query('CHECKPOINT').catch(() => undefined);
  await execFileAsync('sync', [], { timeout: 60_000 }).catch(() => undefined);
}

/** One round of the concurrent figures, each rate beside its reference from the same round. */
interface Round {
  inletRate: number;
  floorRate: number;
  /** The main thread's CPU per upload, ms, where the platform says it. */
  inletCpu: number | undefined;
  floorCpu: number | undefined;
  drainRate: number;
  engineRate: number;
  drainSeconds: number;
  lastAnswer: number;
  refused: string[];
}

/**
 * The accepting thread's CPU per upload beside the bare server's (the bench's clients in both), the round with
 * the median ratio; nothing where the platform does not say it.
 */
function cpuRow(measured: readonly Round[]): string[] {
  const known = measured.filter((r) => r.inletCpu !== undefined && r.floorCpu !== undefined);
  if (known.length === 0) return [];
  const ratio = (r: Round) => (r.inletCpu as number) / (r.floorCpu as number);
  const round = medianRound(known, ratio);
  return [
    tableRow(
      "  main thread's CPU per upload (vs bare)",
      `${fmt(round.inletCpu as number, 3)} ms`,
      `bare ${fmt(round.floorCpu as number, 3)} ms`,
      `${fmt(ratio(round))}x`,
    ),
    `#   the thread that answers, with the bench's clients in it; CPU per upload, each round: ${known.map((r) => `${fmt(ratio(r))}x`).join(' ')}`,
  ];
}

/** The round whose ratio is the median (the lower middle one for an even count). */
function medianRound(rounds: readonly Round[], ratio: (round: Round) => number): Round {
  const sorted = [...rounds].sort((a, b) => ratio(a) - ratio(b));
  return sorted[Math.floor((sorted.length - 1) / 2)] as Round;
}

function refusedNote(what: string, refused: Map<string, number>): string[] {
  if (refused.size === 0) return [];
  const kinds = [...refused].map(([kind, count]) => `${count} x ${kind}`).join(', ');
  return [`# ${what}: not accepted: ${kinds}`];
}

export async function benchServer(options: ServerBenchOptions): Promise<string[]> {
  const files = options.files ?? countFromEnv('BENCH_SERVER_FILES', 200);
  const uploads = options.uploads ?? countFromEnv('BENCH_SERVER_UPLOADS', 1000);
  const rounds = options.rounds ?? countFromEnv('BENCH_SERVER_ROUNDS', 3);
  const root = join(options.work, 'server');
  // What `inlet serve` would run with, given no environment: its workers, pool size and spool layout.
  const settings = serverSettings(root, {});
  const config = parseConfig(
    JSON.stringify({
      pipelines: [
        {
          name: 'bench_upload',
          match: ['bench-upload/**'],
          format: 'csv',
          table: 'public.bench_upload',
          mode: 'append',
          createTable: true,
          columns: ORDERS_COLUMNS,
        },
        {
          name: 'bench_engine',
          format: 'csv',
          table: 'public.bench_engine',
          mode: 'append',
          createTable: true,
          columns: ORDERS_COLUMNS,
        },
      ],
    }),
    'bench upload config',
  );
  const enginePipeline = config.pipelines.find((p) => p.name === 'bench_engine') as Pipeline;
  const poolSize = poolSizeFor(settings);
  const pool = createPool(options.url, { max: poolSize, applicationName: 'inlet-bench-server' });
  const nextRows = rowNumbers();
  const run = Date.now().toString(36);
  const commits = new Commits();
  let service: UploadService | undefined;
  let bare: Awaited<ReturnType<typeof startBareServer>> | undefined;
  const rows: string[] = [];
  try {
    await pool.query('DROP TABLE IF EXISTS public.bench_upload, public.bench_engine');
    service = await startUploadService({
      config,
      pool,
      spoolDir: settings.spoolDir,
      port: 0,
      host: '127.0.0.1',
      maxUploadBytes: settings.maxUploadBytes,
      rateLimitPerMinute: 10_000_000,
      bootstrapToken: TOKEN,
      workers: settings.workers,
      // The free-space check (a statfs at most once a second) runs whatever the threshold; 0 only keeps a
      // nearly full scratch volume from turning the run into 503s.
      minFreeBytes: 0,
      onFinished: (entry, result) => commits.record(entry.id, result),
    });
    rows.push(
      `\n# upload service: ${settings.workers} workers, pool of ${poolSize}, ${ROWS_PER_FILE}-row CSV files`,
      "# latency ratios: Inlet's time / the reference's (1.00x = no overhead); " +
        "rate ratios: Inlet's rate / the reference's (> 1 = Inlet faster)",
    );

    // 1. One file at a time: the engine alone, then the same kind of file through the service.
    const latencyAgent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const engineMs: number[] = [];
    const uploadMs: number[] = [];
    try {
      for (let i = 0; i < WARMUP_FILES + files; i++) {
        const name = `${run}-engine-${i}.csv`;
        const started = performance.now();
        const result = await ingest(memorySource(name, csvFile(nextRows())), enginePipeline, { pool });
        const engineTime = performance.now() - started;
        expectLoaded(result, `engine ${name}`);
        const reply = await put(
          latencyAgent,
          service.url,
          `bench-upload/${run}/one-${i}.csv`,
          csvFile(nextRows()),
        );
        const id = ingestionIdOf(reply);
        await commits.wait([id], COMMIT_TIMEOUT_MS);
        if (i < WARMUP_FILES) continue;
        engineMs.push(engineTime);
        uploadMs.push(commits.at(id) - reply.at);
      }
    } finally {
      latencyAgent.destroy();
    }
    for (const [label, p] of [
      ['p50', 0.5],
      ['p99', 0.99],
    ] as const) {
      const inlet = percentile(uploadMs, p);
      const engine = percentile(engineMs, p);
      rows.push(
        tableRow(
          `202 -> committed, ${label} of ${files} (vs engine)`,
          ms(inlet),
          `engine ${ms(engine)}`,
          `${fmt(inlet / engine)}x`,
        ),
      );
    }

    // 2. Many clients at once, in rounds: the bare durable server (the service idle), the service, its drain,
    // then ingest() directly on as many files.
    const measured: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      const bodies = Array.from({ length: uploads }, () => csvFile(nextRows()));
      bare = await startBareServer(join(root, `bare-${round}`));
      await settleDisk(pool);
      const floor = await burst(bare.url, bodies, (i) => `bare-${i}.csv`, 201);
      await bare.close();
      bare = undefined;
      await settleDisk(pool);
      const inlet = await burst(service.url, bodies, (i) => `bench-upload/${run}/r${round}-${i}.csv`, 202);
      if (floor.accepted === 0 || inlet.accepted === 0) {
        throw new Error(
          `no upload was accepted: ${[...refusedNote('bare server', floor.refused), ...refusedNote('upload service', inlet.refused)].join('; ')}`,
        );
      }
      // Every accepted upload committed: from the first request to the last commit.
      await commits.wait(inlet.ids, Math.max(120_000, uploads * 200));
      const lastCommit = Math.max(...inlet.ids.map((id) => commits.at(id)));
      const drainSeconds = (lastCommit - inlet.startedAt) / 1000;

      // The same number of files through ingest() directly, as many at once as the service has workers.
      let next = 0;
      const engineStarted = performance.now();
      await Promise.all(
        Array.from({ length: settings.workers }, async () => {
          while (next < inlet.ids.length) {
            const i = next++;
            const name = `${run}-r${round}-${i}.csv`;
            expectLoaded(
              await ingest(memorySource(name, csvFile(nextRows())), enginePipeline, { pool }),
              `engine ${name}`,
            );
          }
        }),
      );
      measured.push({
        inletRate: inlet.accepted / inlet.seconds,
        floorRate: floor.accepted / floor.seconds,
        inletCpu: inlet.mainCpuMs === undefined ? undefined : inlet.mainCpuMs / inlet.accepted,
        floorCpu: floor.mainCpuMs === undefined ? undefined : floor.mainCpuMs / floor.accepted,
        drainRate: (inlet.ids.length * ROWS_PER_FILE) / drainSeconds,
        engineRate: (inlet.ids.length * ROWS_PER_FILE) / ((performance.now() - engineStarted) / 1000),
        drainSeconds,
        lastAnswer: (inlet.lastAnswerAt - inlet.startedAt) / 1000,
        refused: [
          ...refusedNote('bare server', floor.refused),
          ...refusedNote('upload service', inlet.refused),
        ],
      });
    }
    const accept = medianRound(measured, (r) => r.inletRate / r.floorRate);
    const drain = medianRound(measured, (r) => r.drainRate / r.engineRate);
    const eachRound = (ratio: (r: Round) => number) => measured.map((r) => `${fmt(ratio(r))}x`).join(' ');
    rows.push(
      tableRow(
        `202s/s, ${uploads} uploads, ${CLIENTS} clients (vs bare)`,
        perSecond(accept.inletRate),
        `fsync+rename ${perSecond(accept.floorRate)}`,
        `${fmt(accept.inletRate / accept.floorRate)}x`,
      ),
      ...cpuRow(measured),
      tableRow(
        `drain rows/s (vs ingest() x${settings.workers} at once)`,
        rowsPerSecond(drain.drainRate),
        `engine ${rowsPerSecond(drain.engineRate)}`,
        `${fmt(drain.drainRate / drain.engineRate)}x`,
      ),
      tableRow(
        'drain: first upload -> last commit',
        `${fmt(drain.drainSeconds)} s`,
        `last 202 at ${fmt(drain.lastAnswer)} s`,
      ),
      `# each the median of ${rounds} rounds; 202s/s: ${eachRound((r) => r.inletRate / r.floorRate)}; ` +
        `drain: ${eachRound((r) => r.drainRate / r.engineRate)}`,
      ...measured.flatMap((r) => r.refused),
    );
    await pool.query('DROP TABLE IF EXISTS public.bench_upload, public.bench_engine');
    return rows;
  } finally {
    await bare?.close();
    await service?.stop();
    await pool.end();
    await rm(root, { recursive: true, force: true });
  }
}
