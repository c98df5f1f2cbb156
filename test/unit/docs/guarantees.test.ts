/**
 * docs/guarantees.md and the README's "What Inlet guarantees" section name the tests that hold each promise:
 * every test path they name must exist (a folder, a file, or `dir/*.test.ts` matching at least one file), and
 * every fault and bad input of its lists has its line in the page.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const page = readFileSync(join(ROOT, 'docs/guarantees.md'), 'utf8');
const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const section = readme.slice(
  readme.indexOf('## What Inlet guarantees'),
  readme.indexOf('\n## ', readme.indexOf('## What Inlet guarantees') + 1),
);

/** The `test/...` paths in code spans. */
function testPaths(markdown: string): string[] {
  return [...new Set([...markdown.matchAll(/`(test\/[^`\s]+)`/g)].map((m) => m[1] as string))];
}

function exists(path: string): boolean {
  if (!path.includes('*')) return existsSync(join(ROOT, path));
  const pattern = new RegExp(`^${path.split('/').pop()?.replaceAll('.', '\\.').replaceAll('*', '[^/]*')}$`);
  const dir = join(ROOT, dirname(path));
  return existsSync(dir) && readdirSync(dir).some((name) => pattern.test(name));
}

describe('docs/guarantees.md', () => {
  it('names only tests that exist', () => {
    const paths = testPaths(page);
    expect(paths.length).toBeGreaterThan(20);
    expect(paths.filter((path) => !exists(path))).toEqual([]);
  });

  it('has a row for every fault F1–F10 and every bad input B1–B22', () => {
    for (let i = 1; i <= 10; i++) expect(page, `F${i}`).toMatch(new RegExp(`^\\| F${i} \\|`, 'm'));
    for (let i = 1; i <= 22; i++) expect(page, `B${i}`).toMatch(new RegExp(`^\\| B${i} \\|`, 'm'));
  });
});

describe("the README's guarantees section", () => {
  it('links the page and names only tests that exist', () => {
    expect(section).toContain('](docs/guarantees.md)');
    const paths = testPaths(section);
    expect(paths.length).toBeGreaterThan(5);
    expect(paths.filter((path) => !exists(path))).toEqual([]);
  });
});
