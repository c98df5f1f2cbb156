/**
 * The import graph of a folder of sources, read with the TypeScript compiler's own pre-processor rather
 * than a regular expression, so that multi-line imports, `import type`, `export … from` and `import()`
 * are all seen, and an import written inside a comment or a string is not.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportEdge {
  /** Repository-relative path of the importing file, with forward slashes. */
  readonly from: string;
  /** Repository-relative path of the imported file (the `.ts` source when a `.js` specifier names one). */
  readonly to: string;
  /** The specifier as written. */
  readonly specifier: string;
}

const SOURCE = /\.(ts|mts|js|mjs)$/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Under NodeNext a `.js` specifier names the `.ts` source beside it. */
function resolveSpecifier(fromFile: string, specifier: string): string {
  const target = path.resolve(path.dirname(fromFile), specifier);
  for (const candidate of [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts')]) {
    if (existsSync(candidate)) return candidate;
  }
  return target;
}

/**
 * Every relative import of every source file under `root/folder`, keyed by importing file (repository
 * paths). Package and `node:` imports are left out: the layers are about the repository's own files.
 */
export function importGraph(root: string, folder: string): Map<string, ImportEdge[]> {
  const relative = (file: string) => path.relative(root, file).split(path.sep).join('/');
  const graph = new Map<string, ImportEdge[]>();
  for (const file of sourceFiles(path.join(root, folder))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    graph.set(
      relative(file),
      importedFiles
        .filter(({ fileName }) => fileName.startsWith('.'))
        .map(({ fileName }) => ({
          from: relative(file),
          to: relative(resolveSpecifier(file, fileName)),
          specifier: fileName,
        })),
    );
  }
  return graph;
}

/**
 * Every import cycle, one per strongly connected component (Tarjan), each named by one closed path through
 * it, e.g. `["a.ts", "b.ts", "a.ts"]`. A file that imports itself is a cycle too.
 */
export function importCycles(graph: ReadonlyMap<string, readonly ImportEdge[]>): string[][] {
  const targets = (file: string) => [...new Set((graph.get(file) ?? []).map((edge) => edge.to))];
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];

  const visit = (file: string): void => {
    index.set(file, index.size);
    low.set(file, index.get(file) as number);
    stack.push(file);
    onStack.add(file);
    for (const next of targets(file)) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file) as number, low.get(next) as number));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file) as number, index.get(next) as number));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || targets(file).includes(file)) components.push(component);
    }
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);

  return components.map((component) => closedPath(component.sort(), targets));
}

/** The shortest path from the component's first file back to itself, staying inside the component. */
function closedPath(component: readonly string[], targets: (file: string) => string[]): string[] {
  const start = component[0] as string;
  const inside = new Set(component);
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const file = queue.shift() as string;
    for (const next of targets(file)) {
      if (!inside.has(next)) continue;
      if (next === start) {
        const chain: string[] = [];
        for (let at: string | undefined = file; at !== undefined && at !== start; at = previous.get(at)) {
          chain.unshift(at);
        }
        return [start, ...chain, start];
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return [...component, start];
}
