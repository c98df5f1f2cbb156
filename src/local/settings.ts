/**
 * `inlet dev`'s settings from the environment (docs/environment.md): the upload service's, listening on
 * 127.0.0.1 unless INLET_HOST says otherwise, the local S3 gateway's and the examples'. The one file of
 * src/local that reads process.env; the data directory, config, database and snapshots come from
 * src/cli/settings.ts as for every command.
 */
import { type ServerSettings, serverSettings } from '../server/settings.js';
import { type Env, flag, integer, port, text } from '../settings/env.js';
import { s3ConnectionFrom } from '../settings/s3.js';
import type { LocalS3Settings } from './s3.js';

export const DEFAULT_INBOX_BUCKET = 'inlet-inbox';

export interface LocalSettings {
  readonly server: ServerSettings;
  readonly s3: LocalS3Settings;
  /** INLET_EXAMPLES: load examples/data on the first start. */
  readonly loadExamples: boolean;
}

export function localSettings(dataDir: string, env: Env = process.env): LocalSettings {
  return {
    server: serverSettings(dataDir, env, { host: '127.0.0.1' }),
    s3: localS3Settings(env),
    loadExamples: flag(env, 'INLET_EXAMPLES') ?? true,
  };
}

/** The gateway's part alone, for what runs the gateway without the rest of `inlet dev` (the crash tests). */
export function localS3Settings(env: Env = process.env): LocalS3Settings {
  return {
    port: port(env, 'INLET_S3_PORT'),
    bucket: text(env, 'INLET_INBOX_BUCKET') ?? DEFAULT_INBOX_BUCKET,
    replayDead: flag(env, 'INLET_S3_REPLAY_DEAD') ?? false,
    // The pair `s3://` clients use is the one the gateway accepts: set both or neither.
    credentials: s3ConnectionFrom(env).credentials,
    maxLambdaBytes: integer(env, 'INLET_LAMBDA_MAX_BYTES', { min: 1 }),
    childEnv: env,
  };
}
