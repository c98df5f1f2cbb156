/**
 * Runs ShellCheck (`/usr/bin/shellcheck`, from `apt-get install shellcheck`) on a script given as text.
 * Always by absolute path, like the AWS CLI of the gateway tests.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';

export const SHELLCHECK_BIN = '/usr/bin/shellcheck';

/** ShellCheck's findings on a bash script (all severities), or '' when it finds nothing. */
export function shellcheck(script: string): string {
  const result = spawnSync(SHELLCHECK_BIN, ['--shell=bash', '--format=gcc', '-'], {
    input: script,
    encoding: 'utf8',
  });
  if (result.error) throw result.error;
  if (result.status !== 0 && result.stdout === '') throw new Error(`shellcheck failed: ${result.stderr}`);
  return result.stdout;
}

/**
 * `describe` when ShellCheck is installed; without it, a failing test under CI (where `.ci/run` installs it)
 * and a skipped suite with the reason elsewhere.
 */
export function describeWithShellcheck(name: string, body: () => void): void {
  if (existsSync(SHELLCHECK_BIN)) {
    describe(name, body);
  } else if (process.env.CI) {
    describe(name, () => {
      it(`needs ${SHELLCHECK_BIN}`, () => {
        throw new Error(
          `${SHELLCHECK_BIN} is missing: .ci/run should have installed it (apt-get install shellcheck)`,
        );
      });
    });
  } else {
    describe.skip(`${name} — skipped: ${SHELLCHECK_BIN} missing (apt-get install -y shellcheck)`, body);
  }
}
