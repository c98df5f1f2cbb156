import { access, mkdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../config/load.js';
import { createTargetTable } from '../../engine/create-table.js';
import { localApiToken } from '../../local/api-token.js';
import { localSettings } from '../../local/settings.js';
import type { InletConfig } from '../../model/contract.js';
import type { Logger } from '../../observability/logger.js';
import { expandPaths } from '../../storage/file-source.js';
import type { Database } from '../database.js';
import { maskDatabaseUrl } from '../format.js';
import { type FileOutcome, ingestFiles } from '../ingest-files.js';
import { cliLogger, colourEnabled, note, paint, print } from '../output.js';
import { resultLines } from '../results.js';
import { dataDir as dataDirectory, namedConfig, s3Connection, snapshotEnvironment } from '../settings.js';
import { listenForStop } from '../signals.js';
import { openServerDatabase, startConfiguredService } from './serve.js';

interface DevOptions {
  config?: string;
  databaseUrl?: string;
}

/** Something `inlet dev` started and must stop, last started first stopped. */
interface Service {
  readonly name: string;
  stop(): Promise<void>;
}

// The same relative location from src/cli/commands and dist/cli/commands.
const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/', import.meta.url));
const EXAMPLES_CONFIG = join(EXAMPLES_DIR, 'inlet.config.yaml');
const EXAMPLES_MARKER = '.examples-loaded';

export async function runDev(options: DevOptions): Promise<number> {
  const logger = cliLogger('info');
  // Listening from the start means a Ctrl+C during startup still stops what was started.
  const stop = listenForStop();
  const services: Service[] = [];
  try {
    const dataDir = dataDirectory();
    const configPath = namedConfig(options.config);
    const config = await loadConfig(configPath ?? EXAMPLES_CONFIG);
    const settings = localSettings(dataDir);
    const snapshotEnv = snapshotEnvironment();
    const examplesConfig =
      settings.loadExamples && (await examplesDue(dataDir)) ? await loadConfig(EXAMPLES_CONFIG) : undefined;
    const token = await localApiToken(dataDir, settings.server.bootstrapToken);
    const db = await openServerDatabase(options.databaseUrl, logger, settings.server);
    services.push({ name: 'database', stop: db.close });
    await createTables(db, [config, ...(examplesConfig ? [examplesConfig] : [])]);
    const loaded = examplesConfig && (await loadExamples(db, examplesConfig, dataDir, logger));
    // The gateway and snapshot modules (the S3 SDK among them) load here, not for every command's --help.
    const [{ startLocalS3 }, { startSnapshots }] = await Promise.all([
      import('../../local/s3.js'),
      import('../../snapshots/service.js'),
    ]);
    const s3 = await startLocalS3({
      dataDir,
      config,
      pool: db.pool,
      logger,
      settings: settings.s3,
      handOver: { configPath: configPath ?? EXAMPLES_CONFIG, databaseUrl: db.url },
    });
    services.push({ name: 'S3 gateway', stop: s3.stop });
    const api = await startConfiguredService({
      config,
      pool: db.pool,
      logger,
      settings: { ...settings.server, bootstrapToken: token },
      fallback: true,
    });
    services.push({ name: 'upload service', stop: api.stop });
    const snapshots = await startSnapshots({
      mode: 'dev',
      environment: snapshotEnv,
      config,
      pool: db.pool,
      logger,
      dataDir,
      spoolDir: api.spool.dir,
      s3: () => s3Connection(),
      localS3: s3,
    });
    if (snapshots !== undefined) services.push({ name: 'snapshot scheduler', stop: snapshots.stop });

    await print('Inlet is running. Press Ctrl+C to stop.');
    await print(`  database  ${maskDatabaseUrl(db.url)}`);
    await print(`  dashboard ${api.url}/#token=${token}  (open in a browser)`);
    await print(`  API       ${api.url}/v1  token ${token}  (spool ${relativeOrAbsolute(api.spool.dir)})`);
    await print(
      `            OpenAPI ${api.url}/v1/openapi.json  health ${api.url}/healthz  metrics ${api.url}/metrics`,
    );
    if (api.sftp !== undefined) {
      await print(
        `  SFTP      sftp -P ${api.sftp.port} <user>@${settings.server.host}  host key ED25519 ${api.sftp.fingerprint}  (add users: npx inlet sftp-users add)`,
      );
    }
    await print(`  S3        ${s3.endpoint}  bucket ${s3.bucket}  (every new object there is ingested)`);
    await print(
      `            access key ${s3.credentials.accessKeyId}  secret ${s3.credentials.secretAccessKey}`,
    );
    if (snapshots !== undefined) {
      const { provider, settings: snap } = snapshots;
      await print(
        `  snapshots ${provider.kind} of the spool to ${provider.target}, schedule "${snap.schedule}"`,
      );
    }
    if (loaded !== undefined) {
      await print(`  examples  ${loaded.length} file${loaded.length === 1 ? '' : 's'} from examples/data:`);
      const colours = paint(colourEnabled(process.stdout));
      for (const outcome of loaded) {
        for (const line of resultLines(outcome.result, { ...outcome, paint: colours }))
          await print(`    ${line}`);
      }
    }
    // In another terminal the CLI has no --config of its own: name the one this stack runs with.
    const configArg =
      configPath === undefined ? ' --config examples/inlet.config.yaml' : ` --config ${configPath}`;
    await print('Try (in another terminal):');
    await print(
      `  curl -H "Authorization: Bearer ${token}" -T examples/data/orders.csv ${api.url}/v1/files/orders.csv`,
    );
    await print(
      `  AWS_ACCESS_KEY_ID=${s3.credentials.accessKeyId} AWS_SECRET_ACCESS_KEY=${s3.credentials.secretAccessKey} ` +
        `aws --endpoint-url ${s3.endpoint} --region us-east-1 s3 cp examples/data/orders.csv s3://${s3.bucket}/orders/orders.csv`,
    );
    await print(`  npx inlet ingest examples/data/orders.csv${configArg}`);
    await print('  npx inlet ingestions');
    if (snapshots !== undefined && snapshotEnv.target === undefined) {
      // The default target is the gateway's bucket: another terminal needs the gateway's address and keys.
      await print(
        `  INLET_S3_ENDPOINT=${s3.endpoint} INLET_S3_ACCESS_KEY_ID=${s3.credentials.accessKeyId} ` +
          `INLET_S3_SECRET_ACCESS_KEY=${s3.credentials.secretAccessKey} INLET_SNAPSHOT_TARGET=${snapshots.provider.target} ` +
          'npx inlet snapshot create',
      );
    }

    const signal = await stop.requested;
    note(`${signal}: stopping (Ctrl+C again to force)`);
  } finally {
    stop.dispose();
    for (const service of services.reverse()) {
      await service
        .stop()
        .catch((error: unknown) => logger.error(`could not stop the ${service.name}`, { error }));
    }
  }
  return 0;
}

async function createTables(db: Database, configs: readonly InletConfig[]): Promise<void> {
  const seen = new Set<string>();
  for (const pipeline of configs.flatMap((config) => config.pipelines)) {
    const table = `${pipeline.table.schema}.${pipeline.table.name}`;
    if (!pipeline.createTable || seen.has(table)) continue;
    seen.add(table);
    await createTargetTable(db.pool, pipeline);
  }
}

/**
 * The examples load on the first start only (a marker in the data directory), so a restart does
 * not list them again (INLET_EXAMPLES=0 skips them altogether).
 */
async function examplesDue(dataDir: string): Promise<boolean> {
  return access(join(dataDir, EXAMPLES_MARKER)).then(
    () => false,
    () => true,
  );
}

async function loadExamples(
  db: Database,
  config: InletConfig,
  dataDir: string,
  logger: Logger,
): Promise<FileOutcome[]> {
  const files = await expandPaths([relative(process.cwd(), join(EXAMPLES_DIR, 'data')) || '.']);
  const outcomes = await ingestFiles(files, {
    config,
    logger,
    database: async () => db,
    progress: false,
    onOutcome: async () => undefined,
  });
  // Written even when a file failed: the ledger, not the marker, keeps a later manual load exactly-once.
  await mkdir(dataDir, { recursive: true });
  await writeFile(join(dataDir, EXAMPLES_MARKER), `${new Date().toISOString()}\n`);
  return outcomes;
}

/** Paths under the working directory read best relative; others stay absolute. */
function relativeOrAbsolute(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
}
