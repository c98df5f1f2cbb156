/**
 * The repository stands alone: every relative link in README.md and docs/ leads to a file or folder in
 * it (and to a heading that exists, when it names one), and no tracked text file points outside it.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, readDoc } from './markdown.js';

const PAGES = [
  'README.md',
  ...readdirSync(path.join(ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** GitHub's heading anchors: lowercase, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  for (const match of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    const slug = (match[1] as string)
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replaceAll(' ', '-');
    found.add(slug);
  }
  return found;
}

/** `[text](target)` links outside code blocks and code spans. */
function links(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] as string);
}

describe('links', () => {
  it.each(PAGES)('every relative link in %s resolves inside the repository', (page) => {
    const broken: string[] = [];
    for (const target of links(readDoc(page))) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [file = '', anchor] = target.split('#');
      const resolved = file === '' ? path.join(ROOT, page) : path.resolve(ROOT, path.dirname(page), file);
      if (!resolved.startsWith(`${ROOT}${path.sep}`) || !existsSync(resolved)) {
        broken.push(target);
        continue;
      }
      if (
        anchor !== undefined &&
        resolved.endsWith('.md') &&
        !anchors(readFileSync(resolved, 'utf8')).has(anchor)
      )
        broken.push(target);
    }
    expect(broken).toEqual([]);
  });

  it('no tracked text file refers to a path outside the repository', () => {
    // git grep over the tracked files: exit 1 means no match.
    let matches = '';
    try {
      matches = execFileSync(
        'git',
        ['grep', '-n', '-I', '-e', '\\.\\./shared', '--', '.', ':!test/unit/docs/links.test.ts'],
        {
          cwd: ROOT,
          encoding: 'utf8',
        },
      );
    } catch (error) {
      if ((error as { status?: number }).status !== 1) throw error;
    }
    expect(matches).toBe('');
  });
});
