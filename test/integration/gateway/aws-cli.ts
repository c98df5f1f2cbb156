/**
 * Runs Debian's AWS CLI v2 (`/usr/bin/aws`, from `apt-get install awscli`) against a local gateway.
 * Always by absolute path: another `aws` (v1, from pyenv) may come first on PATH.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, it } from 'vitest';

export const AWS_BIN = '/usr/bin/aws';
export const awsCliInstalled = existsSync(AWS_BIN);

const run = promisify(execFile);

export interface AwsCliOptions {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A throwaway HOME, so the CLI reads no profile and writes its caches there. */
  home: string;
  /** Kills the CLI after this long. @default 30 s */
  timeoutMs?: number;
}

/** `aws --endpoint-url <endpoint> --region us-east-1 <args...>`; rejects with stderr on a non-zero exit. */
export async function awsCli(options: AwsCliOptions, args: string[]): Promise<string> {
  try {
    const { stdout } = await run(
      AWS_BIN,
      ['--endpoint-url', options.endpoint, '--region', 'us-east-1', '--no-cli-pager', ...args],
      {
        timeout: options.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? '/usr/bin:/bin',
          HOME: options.home,
          AWS_ACCESS_KEY_ID: options.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: options.credentials.secretAccessKey,
          AWS_CONFIG_FILE: '/dev/null',
          AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_PAGER: '',
        },
      },
    );
    return stdout;
  } catch (err) {
    const e = err as Error & { stderr?: string; code?: number | string; signal?: string };
    throw new Error(
      `aws ${args.join(' ')} failed (code ${e.code ?? '?'}${e.signal ? `, signal ${e.signal}` : ''}): ${e.stderr ?? e.message}`,
    );
  }
}

/**
 * `describe` when the CLI is installed; without it, a failing test under CI (where `.ci/run` installs it) and a
 * skipped suite with the reason elsewhere.
 */
export function describeWithAwsCli(name: string, body: () => void): void {
  if (awsCliInstalled) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it(`needs ${AWS_BIN}`, () => {
        throw new Error(`${AWS_BIN} is missing: .ci/run should have installed it (apt-get install awscli)`);
      });
    });
  } else {
    describe.skip(`${name} — skipped: ${AWS_BIN} missing (apt-get install -y awscli)`, body);
  }
}
