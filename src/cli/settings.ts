/**
 * The command line's settings from the environment (docs/environment.md). A command reads here what it
 * needs when it needs it, so it stops on a bad value of a variable it uses and of no other; an option on
 * the command line wins over its variable. The one file of src/cli that reads process.env: `inlet serve`
 * adds src/server/settings.ts, `inlet dev` src/local/settings.ts.
 */
import { LOG_LEVELS, type LogLevel } from '../observability/logger.js';
import { type DatabaseSecretSettings, databaseFrom } from '../settings/database.js';
import { choice, type Env, text } from '../settings/env.js';
import { notifyTopicArnFrom } from '../settings/notify.js';
import { type S3Connection, s3ConnectionFrom } from '../settings/s3.js';
import { snapshotEnvironmentFrom } from '../settings/snapshots.js';
import type { SnapshotEnvironment } from '../snapshots/settings.js';

export const DEFAULT_DATA_DIR = '.inlet';

/** INLET_DATA_DIR: the embedded database, the spool, the local buckets, generated keys and tokens. */
export function dataDir(env: Env = process.env): string {
  return text(env, 'INLET_DATA_DIR') ?? DEFAULT_DATA_DIR;
}

/** The config `--config` names, else INLET_CONFIG; undefined when neither does (each command has its default). */
/** `INLET_NOTIFY_TOPIC_ARN`: `inlet ingest` announces each file's ingestion there, as the Lambda does. */
export function notifyTopicArn(env: Env = process.env): string | undefined {
  return notifyTopicArnFrom(env);
}

export function namedConfig(option: string | undefined, env: Env = process.env): string | undefined {
  return given(option) ?? text(env, 'INLET_CONFIG');
}

/** INLET_LOG_LEVEL, else the command's own level. */
export function logLevel(fallback: LogLevel, env: Env = process.env): LogLevel {
  return choice(env, 'INLET_LOG_LEVEL', LOG_LEVELS) ?? fallback;
}

/** NO_COLOR (https://no-color.org): any value turns colour off. */
export function colourAllowed(env: Env = process.env): boolean {
  return text(env, 'NO_COLOR') === undefined;
}

export interface DatabaseTarget {
  readonly url: string | undefined;
  readonly secret: DatabaseSecretSettings | undefined;
  /** Where the embedded PostgreSQL lives when there is neither. */
  readonly dataDir: string;
}

/** `--database-url`, else DATABASE_URL, else INLET_DATABASE_SECRET_ARN's secret, else the embedded database. */
export function databaseTarget(option: string | undefined, env: Env = process.env): DatabaseTarget {
  const url = given(option);
  const database = url === undefined ? databaseFrom(env) : { url, secret: undefined };
  return { ...database, dataDir: dataDir(env) };
}

/** How `s3://` sources and snapshot targets connect. */
export function s3Connection(env: Env = process.env): S3Connection {
  return s3ConnectionFrom(env);
}

/** The INLET_SNAPSHOT_* variables and the EBS provider's AWS ones. */
export function snapshotEnvironment(env: Env = process.env): SnapshotEnvironment {
  return snapshotEnvironmentFrom(env);
}

/** An option given empty counts as not given, as an empty variable does. */
function given(option: string | undefined): string | undefined {
  return option === undefined || option.trim() === '' ? undefined : option;
}
