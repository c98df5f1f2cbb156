/**
 * `inlet`, the command line. main() returns the exit code instead of exiting, so it can be called
 * from the bin, from tests and from other tools; only the entry points set process.exitCode.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError, type OutputConfiguration } from 'commander';
import { ConfigError, UsageError } from '../errors.js';
import type { Action } from './action.js';
import { registerApply } from './commands/apply.js';
import { registerContracts } from './commands/contracts.js';
import { registerDev } from './commands/dev.js';
import { registerInfer } from './commands/infer.js';
import { registerIngest } from './commands/ingest.js';
import { registerIngestions } from './commands/ingestions.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPlan } from './commands/plan.js';
import { registerRejects } from './commands/rejects.js';
import { registerServe } from './commands/serve.js';
import { registerSftpUsers } from './commands/sftp-users.js';
import { registerSnapshot } from './commands/snapshot.js';
import { registerTokens } from './commands/tokens.js';
import { registerValidate } from './commands/validate.js';
import { examples } from './options.js';
import { debugEnabled, stdout, writeShort } from './output.js';

/** Where help and the version go: stdout (writeShort) unless a caller in the same process collects them. */
export interface MainOptions {
  readonly writeHelp?: (text: string) => void;
}

export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  let exitCode = 0;
  const action: Action =
    (run) =>
    async (...args) => {
      exitCode = await run(...args);
    };
  try {
    await buildProgram(argv, action, options.writeHelp).parseAsync(argv);
    return exitCode;
  } catch (error) {
    return reportError(error);
  }
}

/** Each command of `inlet`, in the order its help lists them, and what defines it on the program. */
const COMMANDS: readonly (readonly [name: string, register: (program: Command, action: Action) => void])[] = [
  ['ingest', registerIngest],
  ['validate', registerValidate],
  ['infer', registerInfer],
  ['ingestions', registerIngestions],
  ['rejects', registerRejects],
  ['migrate', registerMigrate],
  ['plan', registerPlan],
  ['apply', registerApply],
  ['contracts', registerContracts],
  ['tokens', registerTokens],
  ['sftp-users', registerSftpUsers],
  ['snapshot', registerSnapshot],
  ['serve', registerServe],
  ['dev', registerDev],
];

/** The command argv names: its first argument, since `inlet` itself takes no option with a value. */
function commandName(argv: readonly string[]): string | undefined {
  const first = argv[2];
  return first === undefined || first.startsWith('-') ? undefined : first;
}

export function buildProgram(
  argv: readonly string[],
  action: Action,
  writeHelp: (text: string) => void = writeShort,
): Command {
  const program = new Command('inlet')
    .description(
      'Load the files clients send (CSV, TSV, NDJSON, JSON, Parquet, XLSX) into PostgreSQL: validated, exactly once',
    )
    .version(packageVersion(), '-V, --version')
    // Commands inherit these: parse errors throw instead of exiting, and help goes where asked.
    .exitOverride()
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      examples('inlet ingest examples/data/orders.csv', 'inlet ingestions --limit 5', 'inlet help ingest'),
    );
  program.configureOutput(helpOutput(program.configureOutput(), writeHelp));
  // A command run by name is the only one the program needs; anything else (help, a version, a misspelt
  // command commander suggests a name for) lists them all. Defining the other thirteen was ~2 ms of each run.
  const named = COMMANDS.find(([name]) => name === commandName(argv));
  for (const [, register] of named === undefined ? COMMANDS : [named]) register(program, action);
  return program;
}

/**
 * Help and the version written without making `process.stdout` where it is a pipe or a file (output.ts says
 * why); commander's own defaults ask the stream for its width and colours, which would make it.
 */
function helpOutput(defaults: OutputConfiguration, writeHelp: (text: string) => void): OutputConfiguration {
  const terminalColours = defaults.getOutHasColors;
  return {
    writeOut: writeHelp,
    // Commander takes 80 where the default gives none (not a terminal).
    getOutHelpWidth: () => (isatty(1) ? stdout().columns : undefined) ?? 80,
    getOutHasColors: () => isatty(1) && (terminalColours?.() ?? false),
  };
}

/** Usage and config problems exit 2, everything else 1; commander has already printed its own errors. */
function reportError(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`error: ${message}\n`);
  if (debugEnabled()) {
    for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
      process.stderr.write(`${cause.stack ?? cause.message}\n`);
    }
  }
  return error instanceof ConfigError || error instanceof UsageError ? 2 : 1;
}

function packageVersion(): string {
  // The same relative location from src/cli and dist/cli.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}

/** `tsx src/cli/main.ts …` and `node --import tsx src/cli/main.ts …` run the CLI directly. */
function isEntryModule(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return pathToFileURL(realpathSync(entry)).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isEntryModule()) {
  // No top-level await: the bundle turns each of its files into a classic script (scripts/build-cli.mjs).
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
