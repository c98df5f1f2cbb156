import { type JsonRecord, JsonSyntaxIssue, readJsonArray, readNdjson } from '../../formats/json/index.js';
import type { RowWriter } from './encoder.js';

/**
 * NDJSON / JSON array records → COPY text. Each record must be an object; fields are looked up by
 * the column's source name. Fields the contract does not name are ignored and missing ones are
 * empty (NULL or the default), since JSON producers commonly add or omit optional fields.
 */
export async function* encodeJson(
  chunks: AsyncIterable<Buffer>,
  kind: 'ndjson' | 'json',
  writer: RowWriter,
  source: string,
): AsyncGenerator<Buffer> {
  const plan = writer.plan;
  const out = writer.out;
  const columnCount = plan.names.length;
  let scratch = Buffer.allocUnsafe(4096);
  const records = kind === 'ndjson' ? readNdjson(chunks, { source }) : readJsonArray(chunks, { source });

  const encode = ({ value, line: rowLine }: JsonRecord) => {
    writer.stats.records++;
    if (value instanceof JsonSyntaxIssue) {
      writer.reject(out.pos, rowLine, undefined, value.raw, value.reason);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      writer.reject(out.pos, rowLine, undefined, JSON.stringify(value), `expected a JSON object, got ${got}`);
      return;
    }
    const object = value as Record<string, unknown>;
    const start = writer.startRow();
    for (let c = 0; c < columnCount; c++) {
      const field = object[plan.sources[c] as string];
      if (field === undefined || field === null) {
        const reason = writer.absent(c);
        if (reason !== undefined) {
          writer.reject(start, rowLine, c, undefined, reason);
          return;
        }
        continue;
      }
      let text: string | undefined;
      if (plan.jsonb[c]) text = JSON.stringify(field);
      else if (typeof field === 'string') text = field;
      else if (typeof field === 'number' || typeof field === 'bigint' || typeof field === 'boolean')
        text = String(field);
      if (text === undefined) {
        const got = Array.isArray(field) ? 'an array' : 'an object';
        writer.reject(start, rowLine, c, JSON.stringify(field), `expected a single value, got ${got}`);
        return;
      }
      const length = Buffer.byteLength(text);
      if (length > scratch.length) scratch = Buffer.allocUnsafe(Math.max(length, scratch.length * 2));
      scratch.write(text, 0, 'utf8');
      const reason =
        length > 0 && text.includes('\u0000')
          ? 'contains a NUL character, which PostgreSQL cannot store in text'
          : writer.value(c, scratch, 0, length);
      if (reason !== undefined) {
        writer.reject(start, rowLine, c, text, reason);
        return;
      }
    }
    writer.endRow(rowLine);
  };

  for await (const batch of records) {
    for (const record of batch) encode(record);
    const ready = writer.flush();
    if (ready) yield ready;
  }
  const rest = writer.flush(true);
  if (rest) yield rest;
}
