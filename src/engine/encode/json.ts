import { type JsonRecord, JsonSyntaxIssue, readJsonArray, readNdjson } from '../../formats/json/index.js';
import type { Pipeline } from '../../model/contract.js';
import { extraFieldsError, extraValueReason } from './drift.js';
import type { RowWriter } from './encoder.js';

/** Ignored fields listed in the ledger, at most; NDJSON keys can be unbounded. */
const MAX_LISTED_FIELDS = 100;

/**
 * NDJSON / JSON array records → COPY text. Each record must be an object; fields are looked up by
 * the column's source name. A missing field is empty (NULL or the default), since JSON producers
 * commonly omit optional or null fields. A field the contract does not name is schema drift: the file
 * is rejected at the first record that has one (a renamed field shows up this way), or with
 * `onDrift: ignoreExtra` it is skipped and listed in the ledger (`discardRow`: the record is rejected).
 */
export async function* encodeJson(
  chunks: AsyncIterable<Buffer>,
  kind: 'ndjson' | 'json',
  writer: RowWriter,
  source: string,
  pipeline: Pipeline,
): AsyncGenerator<Buffer> {
  const plan = writer.plan;
  const out = writer.out;
  const columnCount = plan.names.length;
  let scratch = Buffer.allocUnsafe(4096);
  const records = kind === 'ndjson' ? readNdjson(chunks, { source }) : readJsonArray(chunks, { source });
  const sources = [...new Set(plan.sources)];
  const ignored = new Set<string>();

  /**
   * More keys than contract fields present means a field the contract does not name. Returns why the
   * record is rejected under onDrift: discardRow (a value in such a field), else undefined.
   */
  const checkFields = (object: Record<string, unknown>, record: number, line: number): string | undefined => {
    let present = 0;
    for (const name of sources) if (object[name] !== undefined) present++;
    let keys = 0;
    for (const _ in object) keys++;
    if (keys === present) return undefined;
    const unexpected = Object.keys(object).filter((key) => !sources.includes(key));
    if (pipeline.onDrift === 'reject') {
      const absent = sources.filter((name) => object[name] === undefined);
      throw extraFieldsError(unexpected, absent, pipeline, {
        source,
        line,
        record,
        what: `Record ${record} (line ${line})`,
      });
    }
    for (const name of unexpected) if (ignored.size < MAX_LISTED_FIELDS) ignored.add(name);
    // Under evolve, the fields of the sampled records were added: one seen only later is discarded as a row.
    const action =
      pipeline.onDrift === 'discardRow' || pipeline.onDrift === 'evolve' ? 'discardRow' : 'ignored';
    writer.drift = { missing: [], unexpected: [...ignored], renamed: [], repeated: [], action };
    if (action !== 'discardRow') return undefined;
    // A null is no value, as a missing field is.
    const valued = unexpected.find((name) => object[name] !== null);
    return valued === undefined ? undefined : extraValueReason(valued, pipeline.onDrift);
  };

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
    const discarded = checkFields(object, writer.stats.records, rowLine);
    if (discarded !== undefined) {
      writer.reject(out.pos, rowLine, undefined, JSON.stringify(object), discarded);
      return;
    }
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
          : // A JSON number is a number: the column's number format is for numbers written as strings.
            writer.value(c, scratch, 0, length, typeof field === 'number' || typeof field === 'bigint');
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
