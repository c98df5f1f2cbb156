/** Reading the docs the tests under test/unit/docs check against the code. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export function readDoc(relative: string): string {
  return readFileSync(path.join(ROOT, relative), 'utf8');
}

/** The first cell of every Markdown table row, header and separator rows left out. */
export function firstCells(markdown: string): string[] {
  const cells: string[] = [];
  for (const line of markdown.split('\n')) {
    const match = /^\|([^|]*)\|/.exec(line.trim());
    if (match === null) continue;
    const cell = (match[1] ?? '').trim();
    if (/^:?-+:?$/.test(cell)) continue;
    cells.push(cell);
  }
  return cells;
}

/** The backticked spans of a piece of Markdown, without their backticks. */
export function codeSpans(markdown: string): string[] {
  return [...markdown.matchAll(/`([^`\n]+)`/g)].map((match) => match[1] as string);
}
