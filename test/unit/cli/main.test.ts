/**
 * The program main() parses with: a command run by name is defined alone (src/cli/main.ts), so what holds
 * here is that each name defines that command and nothing else, and that anything else lists them all.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '../../../src/cli/action.js';
import { buildProgram } from '../../../src/cli/main.js';

const action: Action = () => async () => undefined;
const argv = (...args: string[]) => ['node', 'inlet', ...args];
const names = (args: string[]) =>
  buildProgram(argv(...args), action).commands.map((command) => command.name());

const ALL = [
  'ingest',
  'validate',
  'infer',
  'ingestions',
  'rejects',
  'migrate',
  'plan',
  'apply',
  'contracts',
  'tokens',
  'sftp-users',
  'snapshot',
  'serve',
  'dev',
];

describe("the program inlet's commands are parsed with", () => {
  it('defines every command, in order, for help, a version, no command, or a name it does not know', () => {
    for (const args of [[], ['--help'], ['-V'], ['help', 'ingest'], ['ingets', 'x.csv'], ['--bogus']]) {
      expect(names(args), args.join(' ')).toEqual(ALL);
    }
  });

  it('defines only the command run by name, with its options and subcommands', () => {
    for (const name of ALL) expect(names([name, 'x'])).toEqual([name]);
    const ingest = buildProgram(argv('ingest', 'x.csv'), action).commands[0];
    expect(ingest?.options.map((option) => option.long)).toContain('--pipeline');
    const tokens = buildProgram(argv('tokens', 'list'), action).commands[0];
    expect(tokens?.commands.map((command) => command.name())).toContain('list');
  });
});
