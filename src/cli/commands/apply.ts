import { type Command, InvalidArgumentError } from 'commander';
import { type Action, later } from '../action.js';
import { configOption, databaseUrlOption, examples, jsonOption, pipelineOption } from '../options.js';

/** Seconds to wait for a table's lock: long enough for a small load to finish, short enough not to stall loads. */
const DEFAULT_LOCK_TIMEOUT_SECONDS = 10;

const APPLY_HELP = `
Prints the plan (as inlet plan does), asks for confirmation on a terminal,
then runs its statements in one transaction: each table is locked first,
waiting at most --lock-timeout seconds (a load in progress holds it; nothing
is changed if the wait runs out), and planned again under the lock, so what
runs is what was printed. Destructive changes are left out unless
--allow-destructive, which prints what each will lose first; changes the
data blocks (SET NOT NULL over NULLs) are never made.
Without a terminal (CI, a pipe) it changes nothing unless --yes.

Exit codes: 0 applied, or nothing to do; 1 a change was left out, the lock
timed out or PostgreSQL refused (then nothing was changed); 2 usage or config
errors, and no terminal without --yes.`;

export function registerApply(program: Command, action: Action): void {
  program
    .command('apply')
    .summary('run the DDL inlet plan prints, in one transaction')
    .description(
      "Bring the pipelines' tables to their contracts: run the plan's DDL in one transaction, refusing destructive changes unless asked",
    )
    .addOption(pipelineOption('apply only this pipeline'))
    .option('--allow-destructive', 'also drop columns and narrow types, after printing what will be lost')
    .option('--yes', 'apply without asking (needed without a terminal)')
    .option(
      '--lock-timeout <seconds>',
      "wait at most this long for each table's lock",
      parseSeconds,
      DEFAULT_LOCK_TIMEOUT_SECONDS,
    )
    .addOption(configOption())
    .addOption(databaseUrlOption())
    .addOption(jsonOption())
    .addHelpText('after', APPLY_HELP)
    .addHelpText(
      'after',
      examples(
        'inlet apply',
        'inlet apply --pipeline orders --yes',
        'inlet apply --allow-destructive --yes --json',
      ),
    )
    .action(action(later(async () => (await import('../run/apply.js')).runApply)));
}

function parseSeconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0) {
    throw new InvalidArgumentError('expected a number of seconds above 0, e.g. 10 or 0.5');
  }
  return Number(value);
}
