/** Snapshot test helpers: a directory tree as comparable data, and spool entries with known content. */
import { createHash, randomBytes } from 'node:crypto';
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Spool } from '../../../src/server/spool.js';

export interface TreeNode {
  readonly type: 'dir' | 'file';
  readonly mode: number;
  /** Whole milliseconds: restore sets times through utimes, which rounds below a microsecond. */
  readonly mtime: number;
  readonly content?: Buffer;
}

/** Every directory and file under `root` (the root itself as ''), `tmp/`'s contents left out as snapshots do. */
export async function treeImage(root: string): Promise<Map<string, TreeNode>> {
  const image = new Map<string, TreeNode>();
  const visit = async (rel: string) => {
    const abs = rel === '' ? root : join(root, rel);
    const stats = await lstat(abs);
    const base = { mode: stats.mode & 0o7777, mtime: Math.round(stats.mtimeMs) };
    if (stats.isDirectory()) {
      image.set(rel, { type: 'dir', ...base });
      if (rel === 'tmp') return;
      for (const name of (await readdir(abs)).sort()) await visit(rel === '' ? name : `${rel}/${name}`);
    } else {
      image.set(rel, { type: 'file', ...base, content: await readFile(abs) });
    }
  };
  await visit('');
  return image;
}

/** Differences between two images, as readable lines (empty when identical byte for byte). */
export function treeDiff(expected: Map<string, TreeNode>, actual: Map<string, TreeNode>): string[] {
  const lines: string[] = [];
  for (const [path, node] of expected) {
    const other = actual.get(path);
    if (other === undefined) lines.push(`missing ${path}`);
    else if (other.type !== node.type) lines.push(`${path}: ${other.type} instead of ${node.type}`);
    else {
      if (other.mode !== node.mode)
        lines.push(`${path}: mode ${other.mode.toString(8)} instead of ${node.mode.toString(8)}`);
      if (Math.abs(other.mtime - node.mtime) > 1)
        lines.push(`${path}: mtime ${other.mtime} instead of ${node.mtime}`);
      if (node.content !== undefined && !node.content.equals(other.content ?? Buffer.alloc(0))) {
        lines.push(`${path}: different content`);
      }
    }
  }
  for (const path of actual.keys()) if (!expected.has(path)) lines.push(`unexpected ${path}`);
  return lines;
}

/** CSV-like bytes (compressible and realistic) of about `size` bytes, different per seed. */
export function csvBytes(size: number, seed = randomBytes(4).toString('hex')): Buffer {
  const lines: string[] = ['order_id,placed_at,customer,amount,paid'];
  let total = lines[0]?.length ?? 0;
  for (let i = 0; total < size; i++) {
    const line = `${i},2026-01-${String((i % 28) + 1).padStart(2, '0')}T10:00:00Z,customer ${seed}-${createHash('md5').update(`${seed}${i}`).digest('hex').slice(0, 12)},${(i * 7) % 1000}.${i % 100},${i % 2 === 0}`;
    lines.push(line);
    total += line.length + 1;
  }
  return Buffer.from(`${lines.join('\n')}\n`).subarray(0, Math.max(size, 1));
}

export async function accept(spool: Spool, name: string, body: Buffer): Promise<string> {
  const entry = await spool.accept(Readable.from([body]), { name, maxBytes: 1 << 30 });
  return entry.id;
}
