/**
 * The shell that runs on the instances, checked here: ShellCheck finds nothing in the user data's bootstrap
 * or in inlet-node, and the part of inlet-node that needs no AWS — waiting for /healthz before anything
 * signals or joins the load balancer — runs against a real HTTP server on loopback.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
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
