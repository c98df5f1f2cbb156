/**
 * The real `inlet` process under the one rule for variables (docs/environment.md): an empty variable is
 * unset, a bad value exits 2 naming the variable, and a command minds only the variables it uses.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, runInlet } from '../../harness/cli.js';
import { cliWorkspace } from '../../harness/cli-workspace.js';

const workspace = cliWorkspace('inlet-cli-env-');
const inletWith = (env: NodeJS.ProcessEnv, ...args: string[]) => runInlet(args, { ...workspace.env, ...env });

describe.concurrent('variables, as a shell sets them', () => {
  it('an empty or blank INLET_CONFIG means inlet.config.yaml, not a file named by nothing', async () => {
    for (const blank of ['', '  ']) {
      const run = await inletWith({ INLET_CONFIG: blank }, 'ingest', 'examples/data/orders.csv');
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`config file not found: ${join(ROOT, 'inlet.config.yaml')}.`);
    }
  });

  it('a log level that is none stops the command before it starts, naming the variable', async () => {
    const run = await inletWith({ INLET_LOG_LEVEL: 'verbose' }, 'ingestions', '--limit', '1');
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(
      'error: INLET_LOG_LEVEL must be "debug", "info", "warn", "error" or "silent", got "verbose".\n',
    );
  });

  it("a bad value of another door's variable does not stop a command that does not use it", async () => {
    const run = await inletWith({ INLET_WORKERS: 'many', INLET_S3_PORT: 'x' }, 'ingestions', '--limit', '1');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
  });
});
