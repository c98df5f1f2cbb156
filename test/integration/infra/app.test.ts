/**
 * The CDK app's real entry point, infra/app.ts, in a process of its own as `cdk synth` starts it. What the
 * app builds is tested in process under test/unit/infra/; here, what only the entry point does: with
 * `-c profile=production` and without what production needs, it refuses to synthesize, with the reason
 * on stderr.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('infra/app.ts with profile=production', () => {
  it('refuses to synthesize a server door without TLS and a client range', async () => {
    const outdir = await mkdtemp(join(tmpdir(), 'inlet-cdk-refused-'));
    try {
      const failure = await run('npx', ['tsx', 'infra/app.ts'], {
        cwd: new URL('../../..', import.meta.url).pathname,
        env: {
          ...process.env,
          CDK_CONTEXT_JSON: JSON.stringify({ profile: 'production', region: 'us-east-1' }),
          CDK_OUTDIR: outdir,
        },
        timeout: 60_000,
      }).then(
        () => undefined,
        (err: Error & { stderr: string; code: number }) => err,
      );
      expect(failure, 'synthesis should have failed').toBeDefined();
      expect(failure?.code).not.toBe(0);
      expect(failure?.stderr).toMatch(/profile=production needs certificateArn .*clientCidr .*alarmEmail/);
    } finally {
      await rm(outdir, { recursive: true, force: true });
    }
  });
});
