/**
 * `inlet dev`'s hand-over: where Lambda would start an ECS task, the local S3 endpoint starts a child
 * `inlet ingest <uri> --pipeline <name> --ingestion-id <id>` (the same command the task runs), so the
 * hand-over is exercised end to end on one machine.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import type { Logger } from '../observability/logger.js';
import { type HandOver, ingestArguments } from '../serverless/hand-over.js';

/** The `inlet` command of this checkout: bin/inlet.cjs runs the build, else the sources. */
export const INLET_BIN = fileURLToPath(new URL('../../bin/inlet.cjs', import.meta.url));

export interface ChildHandOverOptions {
  /** The config the stack runs with (the child has no other way to know it). */
  readonly configPath: string;
  readonly databaseUrl: string;
  readonly s3: {
    readonly endpoint: string;
    readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  };
  readonly pool: pg.Pool;
  readonly logger: Logger;
  /** The stack's own environment, which the child inherits beneath the variables set here. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The command before `ingest …`; default: this Node and bin/inlet.cjs. */
  readonly command?: readonly string[];
}

export interface ChildHandOver extends HandOver {
  /** Resolves once every child started so far has exited. */
  settled(): Promise<void>;
}

export function childHandOver(options: ChildHandOverOptions): ChildHandOver {
  const running = new Set<Promise<void>>();
  const [program, ...prefix] = options.command ?? [process.execPath, INLET_BIN];
  return {
    ranOn: 'child',
    async start(request) {
      const child = spawn(
        program as string,
        [...prefix, ...ingestArguments(request), '--config', options.configPath, '--json'],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: {
            ...options.env,
            DATABASE_URL: options.databaseUrl,
            INLET_S3_ENDPOINT: options.s3.endpoint,
            INLET_S3_ACCESS_KEY_ID: options.s3.credentials.accessKeyId,
            INLET_S3_SECRET_ACCESS_KEY: options.s3.credentials.secretAccessKey,
            AWS_REGION: 'us-east-1',
          },
        },
      );
      const pid = await started(child);
      const done = watch(child, request.ingestionId, options).finally(() => running.delete(done));
      running.add(done);
      return `pid ${pid}`;
    },
    async settled() {
      await Promise.all([...running]);
    },
  };
}

function started(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid ?? 0));
    child.once('error', reject);
  });
}

/**
 * Waits for the child; one that exits without a verdict (killed, crashed before its ledger row) leaves the
 * row `failed`, so that the event's next delivery hands the object over again.
 */
async function watch(child: ChildProcess, ingestionId: string, options: ChildHandOverOptions): Promise<void> {
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    if (stderr.length < 4096) stderr += chunk.toString('utf8');
  });
  child.stdout?.resume();
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  if (code === 0) return;
  options.logger.warn('the child inlet ingest of a handed-over object did not succeed', {
    ingestionId,
    exitCode: code,
    stderr: stderr.trim(),
  });
  await options.pool
    .query(
      `UPDATE inlet.ingestions SET status = 'failed', error_code = 'handover_failed', error_message = $2
        WHERE id = $1 AND status = 'queued'`,
      [ingestionId, `The child inlet ingest exited with ${code ?? 'a signal'} before recording a verdict.`],
    )
    .catch((error: unknown) => options.logger.warn('could not record the failed hand-over', { error }));
}
