/**
 * Micro-benchmark of the hot coercers: `npx tsx bench/coerce-micro.ts [label-substring]`.
 * Each case coerces 5 million values laid out back to back in one buffer, as a CSV reader would
 * hand them over, and prints the cost per value: the best of five timed passes after a warm-up,
 * so other load on the machine (and garbage collection of the set-up) skews the figures least.
 */
import { makeCoercer } from '../src/engine/coerce/index.js';
import { CopyTextBuffer } from '../src/engine/copy-text.js';
import type { ColumnContract, ColumnType } from '../src/model/contract.js';

const COUNT = 5_000_000;

interface Case {
  readonly label: string;
  readonly type: ColumnType;
  readonly value: (n: number) => string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

const CASES: readonly Case[] = [
  {
    label: 'integer',
    type: { kind: 'integer', sql: 'integer' },
    value: (n) => String(((n * 2_654_435_761) % 4_000_000_000) - 2_000_000_000),
  },
  {
    label: 'numeric(12,2)',
    type: { kind: 'numeric', precision: 12, scale: 2, sql: 'numeric(12,2)' },
    value: (n) => `${(n * 7919) % 10_000_000}.${pad(n % 100, 2)}`,
  },
  {
    label: 'timestamptz ISO',
    type: { kind: 'timestamptz', sql: 'timestamptz' },
    value: (n) =>
      `20${pad(n % 30, 2)}-${pad((n % 12) + 1, 2)}-${pad((n % 28) + 1, 2)}T${pad(n % 24, 2)}:${pad(n % 60, 2)}:${pad(
        (n * 7) % 60,
        2,
      )}${n % 2 === 0 ? '.123456Z' : '+02:00'}`,
  },
  {
    label: 'boolean',
    type: { kind: 'boolean', sql: 'boolean' },
    value: (n) => ['true', 'false', 't', 'f', '1', '0'][n % 6]!,
  },
];

function layOut(make: (n: number) => string): { bytes: Buffer; bounds: Int32Array } {
  const bytes = Buffer.alloc(COUNT * 40);
  const bounds = new Int32Array(COUNT + 1);
  let offset = 0;
  for (let n = 0; n < COUNT; n++) {
    bounds[n] = offset;
    offset += bytes.write(make(n), offset, 'latin1');
  }
  bounds[COUNT] = offset;
  return { bytes: bytes.subarray(0, offset), bounds };
}

function run(column: ColumnContract, bytes: Buffer, bounds: Int32Array): number {
  const coerce = makeCoercer(column);
  const out = new CopyTextBuffer(1 << 20);
  let rejected = 0;
  const started = process.hrtime.bigint();
  for (let n = 0; n < COUNT; n++) {
    // Drain like the engine does after each chunk, so the buffer never grows.
    if (out.pos > (1 << 20) - 64) out.pos = 0;
    if (coerce(bytes, bounds[n]!, bounds[n + 1]!, out) !== undefined) rejected++;
  }
  const elapsed = Number(process.hrtime.bigint() - started);
  if (rejected > 0) throw new Error(`${rejected} values were rejected; the benchmark data is wrong`);
  return elapsed / COUNT;
}

const only = process.argv[2];
for (const { label, type, value } of CASES) {
  if (only !== undefined && !label.includes(only)) continue;
  const column: ColumnContract = { name: label, source: label, nullable: true, type };
  const { bytes, bounds } = layOut(value);
  run(column, bytes, bounds);
  let ns = Number.POSITIVE_INFINITY;
  for (let pass = 0; pass < 5; pass++) ns = Math.min(ns, run(column, bytes, bounds));
  console.log(`${label.padEnd(16)} ${ns.toFixed(1).padStart(6)} ns/value`);
}
