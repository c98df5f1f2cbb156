/**
 * The shell that runs on the instances, checked here: ShellCheck finds nothing in the user data's bootstrap
 * or in inlet-node, and the part of inlet-node that needs no AWS — waiting for /healthz before anything
 * signals or joins the load balancer — runs against a real HTTP server on loopback; the SFTP host key's
 * first-boot generation, race included, runs with the real ssh-keygen against a stand-in for the AWS CLI.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { bootstrapCommands } from '../../../infra/constructs/server-user-data.js';
import { type NodeFacts, nodeEnvironment, nodeScript } from '../../../infra/server-node-script.js';
import { describeWithShellcheck, shellcheck } from './shellcheck.js';

const run = promisify(execFile);

const facts: NodeFacts = {
  region: 'eu-west-1',
  stackName: 'InletServer',
  logicalId: 'Server1Instance2D98E43D',
  spoolVolumeId: 'vol-0123456789abcdef0',
  spoolDevice: '/dev/sdf',
  targetGroupArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/inlet/0123456789abcdef',
  servicePort: 8080,
  sftpTargetGroupArn:
    'arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/inlet-sftp/0123456789abcdef',
  sftpPort: 2222,
  sftpHostKeySecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:SftpHostKey-AbCdEf',
  releaseSpoolDocument: 'InletServer-ReleaseReleaseSpool-AbCdEf',
  bundleParameter: 'CFN-ReleaseBundle-AbCdEf',
  configParameter: 'CFN-ReleaseConfig-AbCdEf',
  environmentParameter: 'CFN-ReleaseEnvironment-AbCdEf',
};

describeWithShellcheck('ShellCheck on the instance scripts', () => {
  it('finds nothing in the bootstrap that user data runs', () => {
    const bootstrap = `#!/bin/bash\n${bootstrapCommands({ ...facts, appLogGroup: 'app', bootstrapLogGroup: 'boot' }).join('\n')}\n`;
    expect(shellcheck(bootstrap)).toBe('');
  });

  it('finds nothing in inlet-node', () => {
    expect(shellcheck(nodeScript())).toBe('');
  });

  it('reports what it finds, so that the checks above can fail', () => {
    expect(shellcheck('#!/bin/bash\nrm -rf $1/tmp\n')).toMatch(/SC2086/);
  });
});

describe('inlet-node wait-healthy, against a real HTTP server', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** Serves /healthz: 503 for the first `unhealthy` requests, then 200. */
  async function healthz(unhealthy: number): Promise<{ url: string; requests: () => number }> {
    let requests = 0;
    server = createServer((request, response) => {
      requests += 1;
      response.statusCode = request.url === '/healthz' && requests > unhealthy ? 200 : 503;
      response.end();
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/healthz`, requests: () => requests };
  }

  function installed(healthUrl: string): { script: string; env: NodeJS.ProcessEnv } {
    const dir = mkdtempSync(join(tmpdir(), 'inlet-node-'));
    const script = join(dir, 'inlet-node');
    writeFileSync(script, nodeScript(), { mode: 0o755 });
    const envFile = join(dir, 'node.env');
    writeFileSync(
      envFile,
      nodeEnvironment(facts).replace(/^INLET_NODE_HEALTH_URL=.*$/m, `INLET_NODE_HEALTH_URL=${healthUrl}`),
    );
    return { script, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', INLET_NODE_ENV: envFile } };
  }

  it('returns once /healthz answers 200, not before', async () => {
    const health = await healthz(2);
    const { script, env } = installed(health.url);
    const { stderr } = await run('bash', [script, 'wait-healthy', '30'], { env });
    expect(health.requests()).toBe(3);
    expect(stderr).toContain('answers 200');
  });

  it('fails when /healthz never answers 200 in time, so bootstrap signals FAILURE', async () => {
    const health = await healthz(Number.POSITIVE_INFINITY);
    const { script, env } = installed(health.url);
    const failure = await run('bash', [script, 'wait-healthy', '3'], { env }).then(
      () => undefined,
      (err: Error & { code: number; stderr: string }) => err,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/did not answer 200 within 3 s/);
    expect(health.requests()).toBeGreaterThan(0);
  });

  it('refuses an unknown command with its usage', async () => {
    const health = await healthz(0);
    const { script, env } = installed(health.url);
    const failure = await run('bash', [script, 'reboot'], { env }).catch(
      (err: Error & { code: number; stderr: string }) => err,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toMatch(/usage: inlet-node up \| release-spool/);
  });
});

/**
 * A stand-in for the AWS CLI's Secrets Manager calls inlet-node makes, over a directory: one file per
 * version, `current` naming AWSCURRENT. A put with a token already used for another value fails, as
 * Secrets Manager refuses to change a version. A put is one atomic step, as Secrets Manager's is: puts
 * take turns on a lock, and `current` is replaced by a rename, so no one ever reads a version without its
 * value or a `current` half written. (Before, a put that lost the race could compare its key with a value
 * not yet copied, then read `current` before the winner had moved it: a flake of the stand-in, not of the
 * script, which relies on Secrets Manager's atomic put.)
 */
const FAKE_AWS = `#!/bin/bash
set -euo pipefail
state=$FAKE_SECRET_DIR
args=("$@"); op=''; version=''; query=''; value=''; token=''
for ((i = 0; i < \${#args[@]}; i++)); do
  case "\${args[i]}" in
    get-secret-value | put-secret-value) op=\${args[i]} ;;
    --version-id) version=\${args[i + 1]} ;;
    --query) query=\${args[i + 1]} ;;
    --secret-string) value=\${args[i + 1]#file://} ;;
    --client-request-token) token=\${args[i + 1]} ;;
  esac
done
case "$op" in
  get-secret-value)
    [ -n "$version" ] || version=$(cat "$state/current")
    if [ "$query" = VersionId ]; then echo "$version"; else cat "$state/$version.d/value"; fi
    ;;
  put-secret-value)
    exec 9>"$state/.lock"
    flock 9
    sleep 0.2
    if mkdir "$state/$token.d" 2>/dev/null; then
      cp "$value" "$state/$token.d/value"
      echo "$token" >"$state/current.new"
      mv "$state/current.new" "$state/current"
    elif ! cmp -s "$value" "$state/$token.d/value"; then
      echo "An error occurred (ResourceExistsException): a version with this token exists" >&2
      exit 254
    fi
    ;;
esac
`;

describe('inlet-node host-key, against a stand-in for Secrets Manager', () => {
  function world(): { dir: string; script: string; env: NodeJS.ProcessEnv; versions: () => string[] } {
    const dir = mkdtempSync(join(tmpdir(), 'inlet-host-key-'));
    const bin = join(dir, 'bin');
    const secret = join(dir, 'secret');
    mkdirSync(bin);
    mkdirSync(join(secret, 'placeholder-0123456789abcdef0123456789.d'), { recursive: true });
    writeFileSync(
      join(secret, 'placeholder-0123456789abcdef0123456789.d', 'value'),
      'Xq3randomPlaceholder\n',
    );
    writeFileSync(join(secret, 'current'), 'placeholder-0123456789abcdef0123456789\n');
    writeFileSync(join(bin, 'aws'), FAKE_AWS, { mode: 0o755 });
    const script = join(dir, 'inlet-node');
    writeFileSync(script, nodeScript(), { mode: 0o755 });
    const envFile = join(dir, 'node.env');
    writeFileSync(envFile, nodeEnvironment(facts));
    const env = {
      PATH: `${bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      INLET_NODE_ENV: envFile,
      INLET_NODE_SERVICE_USER: userInfo().username,
      FAKE_SECRET_DIR: secret,
    };
    const versions = () =>
      readdirSync(secret)
        .filter((name) => name.endsWith('.d'))
        .sort();
    return { dir, script, env, versions };
  }

  it('generates the key once when instances race, and every instance writes the same one, mode 0600', async () => {
    const { dir, script, env, versions } = world();
    const files = [1, 2, 3].map((n) => join(dir, `host_key_${n}`));
    const runs = await Promise.all(
      files.map((file) =>
        run('bash', [script, 'host-key'], { env: { ...env, INLET_NODE_SFTP_HOST_KEY_FILE: file } }),
      ),
    );
    const keys = files.map((file) => readFileSync(file, 'utf8'));
    expect(keys[0]).toContain('BEGIN OPENSSH PRIVATE KEY');
    expect(new Set(keys).size).toBe(1);
    for (const file of files) expect(statSync(file).mode & 0o777).toBe(0o600);
    // The placeholder and the one key that won: the losers' puts were refused.
    expect(versions()).toEqual([
      'inlet-host-key-placeholder-0123456789abcdef0123456789.d',
      'placeholder-0123456789abcdef0123456789.d',
    ]);
    expect(runs.map((r) => r.stderr).join('')).toContain('stored the new SFTP host key');
    // No key material in what goes to the bootstrap log.
    for (const r of runs) expect(`${r.stdout}${r.stderr}`).not.toContain('PRIVATE KEY');
  });

  it('keeps a key already stored: a later instance writes it and generates nothing', async () => {
    const { dir, script, env, versions } = world();
    const first = join(dir, 'first');
    const later = join(dir, 'later');
    await run('bash', [script, 'host-key'], { env: { ...env, INLET_NODE_SFTP_HOST_KEY_FILE: first } });
    const { stderr } = await run('bash', [script, 'host-key'], {
      env: { ...env, INLET_NODE_SFTP_HOST_KEY_FILE: later },
    });
    expect(stderr).not.toContain('generating');
    expect(readFileSync(later, 'utf8')).toBe(readFileSync(first, 'utf8'));
    expect(versions()).toHaveLength(2);
  });
});
