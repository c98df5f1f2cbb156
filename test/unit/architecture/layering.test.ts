/**
 * The direction of dependencies in docs/architecture.md, held by the code: every import in src/ (type-only
 * ones, `export … from` and `import()` included) goes from a folder to a folder of a strictly lower layer,
 * or stays inside its folder; no file takes part in an import cycle; and infra/ imports no door.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type ImportEdge, importCycles, importGraph } from './import-graph.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/**
 * The layers of src/, lowest first; each name is a folder of src/ (or a file directly in it). A folder may
 * import its own files and the folders of lower layers, never a folder of its own layer or a higher one.
 * docs/architecture.md ("Direction of dependencies") says the same in words; keep the two together.
 */
const LAYERS: readonly (readonly string[])[] = [
  // The catalogue of error codes (docs/errors.md): data that every layer names, importing nothing.
  ['error-codes'],
  // The shared vocabulary: the contract, ObjectSource and results, column types, the calendar, errors.
  ['model', 'errors.ts'],
  // What the engine stands on, each on its own: readers, object stores, logging, reading the ledger.
  ['formats', 'storage', 'observability', 'ledger'],
  ['db'],
  // Proposes a contract from a sample (the engine uses it for the first file of an `infer: true` pipeline).
  ['infer'],
  // The pipeline: one file, one transaction.
  ['engine'],
  // Reads inlet.config.yaml into Pipelines, checking formats against the engine's coercers.
  ['config'],
  ['snapshots'],
  // Reads the environment for the doors' settings modules (src/<door>/settings.ts), which alone hand it in.
  ['settings'],
  // The doors, which do not import one another; the dashboard is the page the server serves.
  ['server', 'serverless', 'gateway', 'dashboard'],
  // Composes the server, the gateway and the serverless handler for `inlet dev`.
  ['local'],
  // Starts everything above: `inlet serve`, `inlet dev`, `inlet snapshot`…
  ['cli'],
];

/** The first layer that holds a door: infra/ (the CDK app and its functions) may import only below it. */
const FIRST_DOOR_LAYER = LAYERS.findIndex((layer) => layer.includes('server'));

function unitOf(file: string): string | undefined {
  const [top, unit] = file.split('/');
  return top === 'src' ? unit : undefined;
}

function layerOf(unit: string): number {
  return LAYERS.findIndex((layer) => layer.includes(unit));
}

/** Each import that leaves src/, names an undeclared folder, or goes sideways or up. */
function layeringViolations(edges: Iterable<ImportEdge>): string[] {
  const found: string[] = [];
  for (const edge of edges) {
    const from = unitOf(edge.from);
    const to = unitOf(edge.to);
    if (from === undefined) continue;
    if (to === undefined) {
      found.push(`${edge.from} imports ${edge.specifier}, outside src/`);
      continue;
    }
    if (from === to) continue;
    const fromLayer = layerOf(from);
    const toLayer = layerOf(to);
    if (fromLayer < 0 || toLayer < 0) {
      found.push(`${edge.from} → ${edge.to}: declare src/${fromLayer < 0 ? from : to} in LAYERS`);
    } else if (toLayer >= fromLayer) {
      const how = toLayer === fromLayer ? 'a folder of its own layer' : 'a higher layer';
      found.push(
        `${edge.from} → ${edge.to}: ${from} (layer ${fromLayer}) imports ${how}, ${to} (layer ${toLayer})`,
      );
    }
  }
  return found;
}

const src = importGraph(ROOT, 'src');
const srcEdges = [...src.values()].flat();

describe('the import graph of src/', () => {
  it('is read with type-only imports, export-from and multi-line imports included', () => {
    const targets = (file: string) => (src.get(file) ?? []).map((edge) => edge.to);
    // `import type { RawColumn, … } from './pipeline-schema.js'`
    expect(targets('src/config/pipeline.ts')).toContain('src/config/pipeline-schema.ts');
    expect(targets('src/engine/ingest.ts')).toContain('src/model/contract.ts');
    expect(targets('src/dashboard/app.js')).toContain('src/dashboard/api.js');
    expect(srcEdges.length).toBeGreaterThan(300);
  });

  it('has every relative import resolving to a file that exists', () => {
    const files = new Set(src.keys());
    const missing = srcEdges.filter((edge) => edge.to.startsWith('src/') && !files.has(edge.to));
    expect(missing.map((edge) => `${edge.from} imports ${edge.specifier}`)).toEqual([]);
  });

  it('declares every folder of src/ in exactly one layer', () => {
    const units = new Set([...src.keys()].map((file) => unitOf(file) as string));
    expect([...units].filter((unit) => layerOf(unit) < 0)).toEqual([]);
    const declared = LAYERS.flat();
    expect(new Set(declared).size).toBe(declared.length);
  });

  it('has no import cycle, type-only imports included', () => {
    expect(importCycles(src).map((cycle) => cycle.join(' → '))).toEqual([]);
  });

  it('imports only downwards: a lower layer never imports a door, infra/ or a higher layer', () => {
    expect(layeringViolations(srcEdges)).toEqual([]);
  });
});

describe('infra/', () => {
  it('imports from src/ only the layers below the doors', () => {
    const reached = [...importGraph(ROOT, 'infra').values()]
      .flat()
      .filter((edge) => edge.to.startsWith('src/'));
    const doors = reached.filter((edge) => layerOf(unitOf(edge.to) as string) >= FIRST_DOOR_LAYER);
    expect(doors.map((edge) => `${edge.from} → ${edge.to}`)).toEqual([]);
  });
});

describe('the checks themselves', () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to, specifier: to });
  const graphOf = (edges: ImportEdge[]) => {
    const graph = new Map<string, ImportEdge[]>();
    for (const e of edges) graph.set(e.from, [...(graph.get(e.from) ?? []), e]);
    return graph;
  };

  it('name a cycle by a closed path through it', () => {
    const graph = graphOf([
      edge('src/a/one.ts', 'src/a/two.ts'),
      edge('src/a/two.ts', 'src/a/three.ts'),
      edge('src/a/three.ts', 'src/a/one.ts'),
      edge('src/a/three.ts', 'src/a/four.ts'),
      edge('src/a/self.ts', 'src/a/self.ts'),
    ]);
    expect(importCycles(graph).map((cycle) => cycle.join(' → '))).toEqual([
      'src/a/one.ts → src/a/two.ts → src/a/three.ts → src/a/one.ts',
      'src/a/self.ts → src/a/self.ts',
    ]);
  });

  it('refuse an engine file importing a door, a door importing a door, and a path out of src/', () => {
    expect(
      layeringViolations([
        edge('src/engine/ingest.ts', 'src/cli/main.ts'),
        edge('src/formats/detect.ts', 'src/engine/ingest.ts'),
        edge('src/server/app.ts', 'src/serverless/handler.ts'),
        edge('src/storage/object-source.ts', 'infra/app.ts'),
        edge('src/brand-new/x.ts', 'src/model/contract.ts'),
        edge('src/cli/main.ts', 'src/engine/ingest.ts'),
        edge('src/engine/ingest.ts', 'src/engine/merge.ts'),
      ]),
    ).toEqual([
      'src/engine/ingest.ts → src/cli/main.ts: engine (layer 5) imports a higher layer, cli (layer 11)',
      'src/formats/detect.ts → src/engine/ingest.ts: formats (layer 2) imports a higher layer, engine (layer 5)',
      'src/server/app.ts → src/serverless/handler.ts: server (layer 9) imports a folder of its own layer, serverless (layer 9)',
      'src/storage/object-source.ts imports infra/app.ts, outside src/',
      'src/brand-new/x.ts → src/model/contract.ts: declare src/brand-new in LAYERS',
    ]);
  });
});
