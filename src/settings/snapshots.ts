/**
 * What the environment says about snapshots (docs/environment.md, docs/snapshots.md): the INLET_SNAPSHOT_*
 * variables, and for the EBS provider its region (AWS_REGION, else AWS_DEFAULT_REGION) and the instance
 * metadata endpoint (AWS_EC2_METADATA_SERVICE_ENDPOINT). The config's `snapshots:` and each command's
 * defaults are combined with these in src/snapshots/settings.ts.
 */
import type { SnapshotEnvironment } from '../snapshots/settings.js';
import { choice, type Env, httpUrl, text } from './env.js';

export function snapshotEnvironmentFrom(env: Env): SnapshotEnvironment {
  return {
    provider: choice(env, 'INLET_SNAPSHOT_PROVIDER', ['archive', 'ebs'] as const),
    target: text(env, 'INLET_SNAPSHOT_TARGET'),
    // A cron expression or `off`, checked (naming the variable) where it meets the config's.
    schedule: text(env, 'INLET_SNAPSHOT_SCHEDULE'),
    volumeId: text(env, 'INLET_SNAPSHOT_VOLUME_ID'),
    key: text(env, 'INLET_SNAPSHOT_KEY'),
    keyFile: text(env, 'INLET_SNAPSHOT_KEY_FILE'),
    region: text(env, 'AWS_REGION') ?? text(env, 'AWS_DEFAULT_REGION'),
    metadataEndpoint: httpUrl(env, 'AWS_EC2_METADATA_SERVICE_ENDPOINT'),
  };
}
