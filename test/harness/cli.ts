import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';

/** The repository root, where the tests run `inlet`. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Node's arguments that start `inlet`: the CLI transpiled for this run (test/harness/cli-build.ts). */
export function inletArgs(...args: readonly string[]): string[] {
  return [inject('cliEntry'), ...args];
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `inlet` process with `env`; resolves with its exit code and output. */
export function runInlet(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      inletArgs(...args),
      { cwd: ROOT, env, timeout: 50_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The `--json` output: one object per line. */
export function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
