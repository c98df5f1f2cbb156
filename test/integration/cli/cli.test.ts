/**
 * The real `inlet` process, as users and scripts run it: exit codes, stdout lines, stderr messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../../src/storage/s3-store.js';
import { inletArgs, jsonLines, ROOT, runInlet } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';
import { silentServer } from '../../harness/silent-server.js';

const workspace = cliWorkspace('inlet-cli-');
const { inlet } = workspace;

const CONFIG = `
pipelines:
  - name: cli_orders
    match: ["*.orders.csv"]
    format: csv
    table: public.cli_orders
    createTable: true
    mode: upsert
    key: [order_id]
    columns:
      - { name: order_id, type: bigint }
      - { name: amount, type: "numeric(12,2)" }
      - { name: note, type: text }
`;

beforeAll(async () => {
  const dir = workspace.dir;
  await writeFile(join(dir, 'inlet.config.yaml'), CONFIG);
  await writeFile(
    join(dir, 'good.orders.csv'),
    'order_id,amount,note\n1,10.50,first\n2,20.00,second\n3,30.25,third\n',
  );
  await writeFile(
    join(dir, 'bad.orders.csv'),
    'order_id,amount,note\n10,1.00,fine\n11,"=HYPERLINK(""http://x"")",formula\n12,3.00,fine\n',
  );
  await writeFile(join(dir, 'notes.txt'), 'hello\n');
  await writeFile(
    join(dir, 'broken.yaml'),
    'pipelines:\n  - name: x\n    table: x\n    columns:\n      - { name: id, type: bigint }\n      - { name: n, type: numbr }\n',
  );
});

/** A file in the test's folder. */
const inDir = (name: string) => join(workspace.dir, name);
const config = () => inDir('inlet.config.yaml');

describe.concurrent('inlet --help', () => {
  it.each([
    [[]],
    [['ingest']],
    [['validate']],
    [['ingestions']],
    [['rejects']],
    [['migrate']],
    [['dev']],
    [['serve']],
  ])('%j --help exits 0 with a description and an example', async (command) => {
    const run = await inlet(...command, '--help');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: inlet${command.length > 0 ? ` ${command[0]}` : ''}`);
    expect(run.stdout).toContain('Examples:');
    expect(run.stdout).toContain('$ inlet ');
    // Every command touches the database, so every one takes --database-url.
    if (command.length > 0) expect(run.stdout).toContain('--database-url <url>');
  });
});

describe.concurrent('usage and config errors exit 2', () => {
  it('an unknown pipeline', async () => {
    const run = await inlet('ingest', inDir('good.orders.csv'), '--config', config(), '--pipeline', 'nope');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('error: unknown pipeline "nope"; known pipelines: cli_orders');
  });

  it('a broken config, naming the key path', async () => {
    const run = await inlet('ingest', inDir('good.orders.csv'), '--config', inDir('broken.yaml'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('broken.yaml: pipelines[0].columns[1].type: unknown type "numbr"');
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a broken config or no files before a database that cannot be reached (connecting starts early)', async () => {
    const unreachable = ['--database-url', 'postgres://inlet@127.0.0.1:1/none'];
    const broken = await inlet(
      'ingest',
      inDir('good.orders.csv'),
      '--config',
      inDir('broken.yaml'),
      ...unreachable,
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('unknown type "numbr"');
    await mkdir(inDir('empty-folder'), { recursive: true });
    const none = await inlet('ingest', inDir('empty-folder'), '--config', config(), ...unreachable);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no files found');
    const refused = await inlet('ingest', inDir('good.orders.csv'), '--config', config(), ...unreachable);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/error: .*(connect|ECONNREFUSED)/i);
  });

  it('a missing config, saying how to make one', async () => {
    const run = await inlet('ingest', inDir('good.orders.csv'), '--config', inDir('none.yaml'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('examples/inlet.config.yaml');
  });

  it('--ingestion-id with a folder of several files, before anything loads', async () => {
    await mkdir(inDir('two-files'), { recursive: true });
    await writeFile(inDir('two-files/a.orders.csv'), 'order_id,amount,note\n901,1.00,a\n');
    await writeFile(inDir('two-files/b.orders.csv'), 'order_id,amount,note\n902,2.00,b\n');
    const id = '0b7e4a52-3c1d-4f7e-9a0b-5d6c7e8f9a01';
    const run = await inlet(
      'ingest',
      inDir('two-files'),
      '--config',
      config(),
      '--ingestion-id',
      id,
      '--json',
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('--ingestion-id names one ingestion of one file');
    expect(run.stderr).toContain('holds 2');
  });

  it('an unknown option', async () => {
    const run = await inlet('ingestions', '--colour');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("unknown option '--colour'");
  });
});

describe('ingest', () => {
  it('loads a good file: exit 0 and one JSON line with status loaded', async () => {
    const run = await inlet('ingest', inDir('good.orders.csv'), '--config', config(), '--json');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0] ?? {})).toEqual([
      'source',
      'pipeline',
      'status',
      'ingestionId',
      'rowsLoaded',
      'rowsRejected',
      'bytes',
      'durationMs',
    ]);
    expect(lines[0]).toMatchObject({
      pipeline: 'cli_orders',
      status: 'loaded',
      rowsLoaded: 3,
      rowsRejected: 0,
    });
    expect(lines[0]?.source).toMatch(/^file:\/\/.*good\.orders\.csv$/);
    const { rows } = await workspace.db.pool.query('SELECT count(*)::int AS n FROM public.cli_orders');
    expect(rows[0].n).toBe(3);
  });

  it('answers duplicate for the same file again, still exit 0', async () => {
    const run = await inlet('ingest', inDir('good.orders.csv'), '--config', config(), '--json');
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)[0]).toMatchObject({ status: 'duplicate', rowsLoaded: 0 });
  });

  it('rejects a file with a bad row under maxRatio 0: exit 1, nothing loaded', async () => {
    const run = await inlet('ingest', inDir('bad.orders.csv'), '--config', config(), '--json');
    expect(run.code).toBe(1);
    const [line] = jsonLines(run.stdout);
    expect(line).toMatchObject({ status: 'rejected', rowsLoaded: 0, rowsRejected: 1 });
    expect(line?.error).toMatchObject({ code: expect.any(String), message: expect.any(String) });
    const { rows } = await workspace.db.pool.query(
      'SELECT count(*)::int AS n FROM public.cli_orders WHERE order_id >= 10',
    );
    expect(rows[0].n).toBe(0);
  });

  it('prints the human summary with the first rejected rows', async () => {
    const run = await inlet('ingest', inDir('bad.orders.csv'), '--config', config());
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('✗ rejected');
    expect(run.stdout).toMatch(/line 3, column amount, value "=HYPERLINK\(\\"http:\/\/x\\"\)"/);
  });

  it('reports a file no pipeline takes as failed with no_pipeline: exit 1', async () => {
    const run = await inlet('ingest', inDir('notes.txt'), '--config', config(), '--json');
    expect(run.code).toBe(1);
    const [line] = jsonLines(run.stdout);
    expect(line).toMatchObject({ status: 'failed', pipeline: null, error: { code: 'no_pipeline' } });
    const message = (line?.error as { message?: string } | undefined)?.message;
    expect(message).toContain('*.orders.csv');
    expect(message).toContain('--pipeline');
  });

  it('routes a file outside the working directory by its absolute path, and names the paths it tried (issue 17)', async () => {
    const folders = inDir('folders.config.yaml');
    // A pipeline and table of its own, so the ingestions listed below are still only the ones above.
    const routedConfig = CONFIG.replace('match: ["*.orders.csv"]', 'match: ["**/incoming/orders/**"]')
      .replace('name: cli_orders', 'name: cli_routed')
      .replace('table: public.cli_orders', 'table: public.cli_routed');
    await writeFile(folders, routedConfig);
    await mkdir(inDir('incoming/orders'), { recursive: true });
    await writeFile(inDir('incoming/orders/today.csv'), 'order_id,amount,note\n40,4.00,routed\n');
    await writeFile(inDir('incoming/today.csv'), 'order_id,amount,note\n41,4.10,stray\n');
    // The tests run in the repository, so relative to it these paths climb out through `..`.
    const routed = await inlet('ingest', inDir('incoming/orders/today.csv'), '--config', folders, '--json');
    expect(routed.stderr).toBe('');
    expect(jsonLines(routed.stdout)).toMatchObject([
      { status: 'loaded', pipeline: 'cli_routed', rowsLoaded: 1 },
    ]);
    const stray = await inlet('ingest', inDir('incoming/today.csv'), '--config', folders, '--json');
    const message = (jsonLines(stray.stdout)[0]?.error as { message?: string } | undefined)?.message;
    expect(message).toContain(`(nor as "${inDir('incoming/today.csv')}")`);
    expect(message).toContain('**/incoming/orders/**');
  });

  it('goes on past a missing file and exits 1', async () => {
    const run = await inlet(
      'ingest',
      inDir('missing.orders.csv'),
      inDir('good.orders.csv'),
      '--config',
      config(),
      '--json',
    );
    expect(run.code).toBe(1);
    expect(jsonLines(run.stdout).map((line) => line.status)).toEqual(['failed', 'duplicate']);
  });
});

describe('a database that never answers', () => {
  it('does not hold up a command that never needed it: a missing file fails without waiting out the connection timeout', async () => {
    // The command starts connecting while it reads its config; the server accepts and never says a word.
    const server = await silentServer();
    try {
      const started = performance.now();
      const run = await runInlet(['ingest', inDir('missing.orders.csv'), '--config', config()], {
        ...workspace.env,
        DATABASE_URL: server.url,
      });
      const took = performance.now() - started;
      expect(run.code).toBe(1);
      expect(run.stderr + run.stdout).toContain('no such file');
      // The connection timeout is 10 s; the command waits at most a second for the connection it warmed.
      expect(took).toBeLessThan(6_000);
      await server.closedByClient();
    } finally {
      await server.close();
    }
  });
});

describe('validate', () => {
  it('reports what would load without committing', async () => {
    await writeFile(inDir('new.orders.csv'), 'order_id,amount,note\n100,1.00,a\n101,2.00,b\n');
    const run = await inlet('validate', inDir('new.orders.csv'), '--config', config());
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('2 rows would load');
    const { rows } = await workspace.db.pool.query(
      'SELECT count(*)::int AS n FROM public.cli_orders WHERE order_id >= 100',
    );
    expect(rows[0].n).toBe(0);
  });

  it('shows the first rejects of a bad file and exits 1', async () => {
    const run = await inlet('validate', inDir('bad.orders.csv'), '--config', config(), '--json');
    expect(run.code).toBe(1);
    const [line] = jsonLines(run.stdout);
    expect(line).toMatchObject({ status: 'rejected', dryRun: true });
    expect(line?.rejects).toEqual([expect.objectContaining({ line: 3, column: 'amount' })]);
  });
});

describe('ingestions and rejects', () => {
  it('lists ingestions newest first as JSON lines', async () => {
    const run = await inlet('ingestions', '--json', '--pipeline', 'cli_orders');
    expect(run.code).toBe(0);
    const lines = jsonLines(run.stdout);
    expect(lines.map((line) => line.status)).toEqual(expect.arrayContaining(['loaded', 'rejected']));
    expect(lines.find((line) => line.status === 'loaded')).toMatchObject({
      rowsLoaded: 3,
      pipeline: 'cli_orders',
    });
    const onlyRejected = jsonLines(
      (await inlet('ingestions', '--json', '--status', 'rejected', '--limit', '1')).stdout,
    );
    expect(onlyRejected).toHaveLength(1);
    expect(onlyRejected[0]?.status).toBe('rejected');
  });

  it('prints an aligned table for people', async () => {
    const run = await inlet('ingestions', '--limit', '3');
    expect(run.code).toBe(0);
    const [header, ...rows] = run.stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ID\s+WHEN\s+PIPELINE\s+DOOR\s+SOURCE\s+STATUS\s+ROWS\s+REJECTED\s+DURATION$/);
    expect(rows.length).toBeGreaterThan(0);
    expect(run.stdout).not.toContain('\x1b[');
  });

  it.each([
    ['results', ['ingestions', '--limit', '3']],
    ['help', ['--help']],
    ['version', ['--version']],
  ])(
    'ends quietly, with its own exit code, when the reader of its %s has gone (`| head`)',
    async (_what, args) => {
      const child = spawn(process.execPath, inletArgs(...args), {
        cwd: ROOT,
        env: workspace.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // The reader goes before the command has written a byte: its first write meets EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const code = await new Promise<number | null>((resolve) => child.on('exit', (exit) => resolve(exit)));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    },
  );

  it('exports rejected rows as CSV with formula cells defused', async () => {
    const [rejected] = jsonLines(
      (await inlet('ingestions', '--json', '--status', 'rejected', '--limit', '1')).stdout,
    );
    const id = String(rejected?.id);
    const run = await inlet('rejects', id, '--format', 'csv');
    expect(run.code).toBe(0);
    const [header, first, ...rest] = run.stdout.split('\r\n');
    expect(header).toBe('line,record,column,value,reason');
    expect(first).toMatch(/^3,2,amount,"'=HYPERLINK\(""http:\/\/x""\)",/);
    expect(rest).toEqual(['']);
    const short = await inlet('rejects', id.slice(-8), '--format', 'json');
    expect(jsonLines(short.stdout)).toEqual([
      expect.objectContaining({ line: 3, record: 2, column: 'amount', value: '=HYPERLINK("http://x")' }),
    ]);
  });

  it('refuses a malformed id with exit 2 and an unknown one with exit 1', async () => {
    const malformed = await inlet('rejects', 'not-an-id');
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain('is not an ingestion id');
    const unknown = await inlet('rejects', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no ingestion 00000000-0000-4000-8000-000000000000');
  });
});

describe('migrate', () => {
  it('applies migrations and creates the tables of createTable pipelines', async () => {
    await writeFile(
      inDir('migrate.yaml'),
      'pipelines:\n  - { name: m, table: cli_made.things, createTable: true, columns: [{ name: id, type: bigint }] }\n',
    );
    const run = await inlet('migrate', '--config', inDir('migrate.yaml'));
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('schema inlet is up to date');
    expect(run.stdout).toContain('table cli_made.things ready');
    const { rows } = await workspace.db.pool.query(
      `SELECT to_regclass('cli_made.things') IS NOT NULL AS exists`,
    );
    expect(rows[0].exists).toBe(true);
  });
});

describe('dev', () => {
  it('loads the examples on first start, ingests what lands in the local S3 inbox or is uploaded to the API, and stops cleanly on SIGTERM', async () => {
    const child: ChildProcess = spawn(process.execPath, inletArgs('dev'), {
      cwd: ROOT,
      env: { ...workspace.env, INLET_DATA_DIR: inDir('dev-data') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 40_000;
    while (!stdout.includes('npx inlet ingestions') && Date.now() < deadline && child.exitCode === null) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(stdout, stderr).toContain('npx inlet ingest examples/data/orders.csv');
    expect(stdout).toContain('loaded examples/data/orders.csv → public.orders');
    expect(stdout).not.toContain(new URL(workspace.db.url).password || '\0');

    // The local serverless path: an object put into the inbox bucket is loaded by the same handler as in Lambda.
    const endpoint = /S3\s+(http:\/\/\S+)\s+bucket (\S+)/.exec(stdout);
    const keys = /access key (\S+)\s+secret (\S+)/.exec(stdout);
    expect(endpoint, stdout).not.toBeNull();
    const store = new S3ObjectStore({
      endpoint: endpoint?.[1] as string,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: keys?.[1] as string, secretAccessKey: keys?.[2] as string },
    });
    await store.put(
      endpoint?.[2] as string,
      'orders/from s3.csv',
      'order_id,placed_at,Customer Name,amount,paid\n424242,,S3 Client,1.00,t\n',
    );
    const s3Deadline = Date.now() + 15_000;
    let loadedFromS3 = 0;
    while (loadedFromS3 === 0 && Date.now() < s3Deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const { rows } = await workspace.db.pool.query(
        'SELECT count(*)::int AS n FROM public.orders WHERE order_id = 424242',
      );
      loadedFromS3 = rows[0].n;
    }
    expect(loadedFromS3).toBe(1);

    // The server path: the printed curl command's URL and token upload a file that the worker loads.
    const curl = /curl -H "Authorization: Bearer (\S+)" -T \S+ (http:\/\/\S+)\/v1\/files\//.exec(stdout);
    expect(curl, stdout).not.toBeNull();
    // The printed dashboard address serves the page and carries the same token.
    const dashboard = /dashboard (http:\/\/\S+)\/#token=(\S+)/.exec(stdout);
    expect(dashboard?.[1]).toBe(curl?.[2]);
    expect(dashboard?.[2]).toBe(curl?.[1]);
    const page = await fetch(`${dashboard?.[1]}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>');
    const upload = await fetch(`${curl?.[2]}/v1/files/orders/from-api.csv`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${curl?.[1]}` },
      body: 'order_id,placed_at,Customer Name,amount,paid\n434343,,API Client,2.00,f\n',
    });
    expect(upload.status, await upload.clone().text()).toBe(202);
    const { ingestionId } = (await upload.json()) as { ingestionId: string };
    const apiDeadline = Date.now() + 15_000;
    let status = 'queued';
    while ((status === 'queued' || status === 'processing') && Date.now() < apiDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const answer = await fetch(`${curl?.[2]}/v1/ingestions/${ingestionId}`, {
        headers: { authorization: `Bearer ${curl?.[1]}` },
      });
      status = ((await answer.json()) as { status: string }).status;
    }
    expect(status).toBe('loaded');
    const fromApi = await workspace.db.pool.query(
      'SELECT customer FROM public.orders WHERE order_id = 434343',
    );
    expect(fromApi.rows).toEqual([{ customer: 'API Client' }]);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await access(join(workspace.dir, 'dev-data', '.examples-loaded'));
    const { rows } = await workspace.db.pool.query('SELECT count(*)::int AS n FROM public.orders');
    expect(rows[0].n).toBeGreaterThan(0);
  });
});
