/** Options shared by several commands, spelled and described once. */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CONFIG_PATH } from '../config/default-path.js';

export function configOption(fallback = DEFAULT_CONFIG_PATH): Option {
  return new Option('--config <file>', `the pipeline config (default: $INLET_CONFIG, else ${fallback})`);
}

export function databaseUrlOption(): Option {
  return new Option(
    '--database-url <url>',
    'PostgreSQL connection string (default: $DATABASE_URL, else the embedded database in $INLET_DATA_DIR)',
  );
}

/** `--database-url` of a subcommand, which may be given before or after the subcommand's name. */
export function databaseUrlOf(options: { databaseUrl?: string }, command: Command): string | undefined {
  return options.databaseUrl ?? (command.parent?.opts() as { databaseUrl?: string } | undefined)?.databaseUrl;
}

/** commander's collector for an option given once per value (`--pipeline a --pipeline b`). */
export function repeatable(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function pipelineOption(what: string): Option {
  return new Option('--pipeline <name>', what);
}

export function jsonOption(): Option {
  return new Option('--json', 'print one JSON object per line instead of the summary');
}

export function parsePositiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new InvalidArgumentError('expected a whole number of 1 or more');
  }
  return Number(value);
}

/** The "Examples:" block every command's --help ends with. */
export function examples(...commands: string[]): string {
  return `\nExamples:\n${commands.map((command) => `  $ ${command}`).join('\n')}\n`;
}
