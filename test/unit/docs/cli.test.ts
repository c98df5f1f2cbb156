/**
 * docs/cli.md names every command and option of the CLI: the help of each command is read in-process
 * (commander's own output, through main()), so a command or option added without a line here fails.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';
import { readDoc } from './markdown.js';

async function help(command: readonly string[]): Promise<string> {
  let out = '';
  await main(['node', 'inlet', ...command, '--help'], {
    writeHelp: (text) => {
      out += text;
    },
  });
  return out;
}

/** The names listed under "Commands:" in a help text, `help` left out. */
function subcommands(text: string): string[] {
  const section = text.split(/^Commands:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...section.matchAll(/^ {2}([a-z][a-z-]*)/gm)]
    .map((match) => match[1] as string)
    .filter((name) => name !== 'help');
}

/** The long options listed under "Options:". */
function options(text: string): string[] {
  const section = text.split(/^Options:$/m)[1]?.split(/^\S/m)[0] ?? '';
  return [...new Set([...section.matchAll(/--[a-z][a-z-]*/g)].map((match) => match[0]))];
}

async function everyCommand(prefix: readonly string[] = []): Promise<{ path: string[]; text: string }[]> {
  const text = await help(prefix);
  const found = [{ path: [...prefix], text }];
  for (const name of subcommands(text)) found.push(...(await everyCommand([...prefix, name])));
  return found;
}

describe('docs/cli.md', () => {
  afterEach(() => vi.restoreAllMocks());

  it('names every command, with each of its options in its section', async () => {
    const doc = readDoc('docs/cli.md');
    const commands = await everyCommand();
    expect(commands.map((command) => command.path.join(' '))).toContain('snapshot prune');
    const missing: string[] = [];
    for (const { path, text } of commands) {
      if (path.length === 0) continue;
      const name = `inlet ${path.join(' ')}`;
      if (!doc.includes(`\`${name}`)) missing.push(name);
      // The options of a command are documented in the section of its top-level command.
      const heading = `## \`inlet ${path[0]}\``;
      const section = doc.split(heading)[1]?.split(/^## /m)[0] ?? '';
      for (const option of options(text)) {
        if (option === '--help') continue;
        if (!section.includes(`\`${option}`) && !(doc.includes('## Common options') && isCommon(doc, option)))
          missing.push(`${name} ${option}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

/** Options described once under "Common options" and only referred to ("as above") in sections. */
function isCommon(doc: string, option: string): boolean {
  const common = doc.split('## Common options')[1]?.split(/^## /m)[0] ?? '';
  return common.includes(`\`${option}`);
}
