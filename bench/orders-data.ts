import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** The five typed columns of the benchmark file (docs/benchmarks.md): about 90 bytes a row. */
export const ORDERS_COLUMNS = [
  { name: 'order_id', type: 'bigint', nullable: false },
  { name: 'placed_at', type: 'timestamptz' },
  { name: 'customer', type: 'text' },
  { name: 'amount', type: 'numeric(12,2)' },
  { name: 'paid', type: 'boolean' },
] as const;

export const ORDERS_TABLE_SQL = (table: string) =>
  `CREATE TABLE ${table} (order_id bigint NOT NULL, placed_at timestamptz, customer text, amount numeric(12,2), paid boolean)`;

const FIRST = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis'];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Thompson',
  'Hamilton',
  'Ritchie',
];

/** One CSV row; deterministic in `i`, some customers quoted (with a comma), as real exports are. */
export function orderRow(i: number): string {
  const second = i % 86_400;
  const hh = String(Math.floor(second / 3600)).padStart(2, '0');
  const mm = String(Math.floor((second % 3600) / 60)).padStart(2, '0');
  const ss = String(second % 60).padStart(2, '0');
  const day = String((i % 28) + 1).padStart(2, '0');
  const month = String((i % 12) + 1).padStart(2, '0');
  const name = `${FIRST[i % 10]} ${LAST[Math.floor(i / 10) % 10]}`;
  const customer = i % 5 === 0 ? `"${name}, Ltd. (account ${i % 9973})"` : `${name} account ${i % 9973}`;
  const amount = `${(i * 7919) % 1_000_000}.${String(i % 100).padStart(2, '0')}`;
  return `${1_000_000_000 + i},2024-${month}-${day}T${hh}:${mm}:${ss}.${String(i % 1000).padStart(3, '0')}Z,${customer},${amount},${i % 3 === 0 ? 'true' : 'false'}\n`;
}

/** Writes a header and `rows` rows to `path`, with back-pressure. */
export async function writeOrdersCsv(path: string, rows: number, startAt = 0): Promise<number> {
  const out = createWriteStream(path);
  let bytes = 0;
  let batch = 'order_id,placed_at,customer,amount,paid\n';
  for (let i = startAt; i < startAt + rows; i++) {
    batch += orderRow(i);
    if (batch.length > 1 << 20) {
      bytes += Buffer.byteLength(batch);
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  bytes += Buffer.byteLength(batch);
  out.end(batch);
  await once(out, 'finish');
  return bytes;
}
