/**
 * The keys of one pipeline in inlet.config.yaml, field by field, as zod schemas (every key is described in
 * docs/configuration.md). Their output is the raw pipeline that pipeline.ts checks across fields and turns
 * into the engine's Pipeline; schema.ts puts the two together. Kept apart from schema.ts so that
 * pipeline.ts can name these types without the two files importing each other.
 */
import * as z from 'zod/mini';
import { MAX_IDENTIFIER_BYTES } from '../db/sql.js';
import { parseColumnType } from '../model/column-type.js';
import { PIPELINE_NAME, TEXT_ENCODINGS } from '../model/contract.js';
import { issueSink } from './issue-sink.js';
import { strict } from './strict-object.js';

/** YAML users write `match: "*.csv"` as often as `match: ["*.csv"]`; both mean a list. */
function oneOrMany<T extends z.ZodMiniType>(item: T, what: string) {
  return z.pipe(
    z.transform((value: unknown) => (typeof value === 'string' ? [value] : value)),
    z.array(item, {
      error: (issue) => (issue.code === 'invalid_type' ? `expected ${what} or a list of them` : undefined),
    }),
  );
}

const text = z.string().check(z.minLength(1, 'must not be empty'));

/** Problems PostgreSQL would not report itself: it silently truncates names past 63 bytes, so two could collide. */
export function identifierProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.includes('\0')) return 'must not contain a NUL character';
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_IDENTIFIER_BYTES) {
    return `"${name}" is ${bytes} bytes long; PostgreSQL names hold at most ${MAX_IDENTIFIER_BYTES} bytes`;
  }
  return undefined;
}

const identifier = z.string().check(
  z.superRefine((name, ctx) => {
    const problem = identifierProblem(name);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

const tableName = z.pipe(
  z.string(),
  z.transform((spelled, payload) => {
    const ctx = issueSink(payload);
    const parts = spelled.split('.');
    if (parts.length > 2) {
      ctx.addIssue({ code: 'custom', message: `expected "schema.name" or "name", got "${spelled}"` });
      return z.NEVER;
    }
    const [schema, name] = parts.length === 2 ? parts : ['public', parts[0]];
    for (const part of [schema ?? '', name ?? '']) {
      const problem = identifierProblem(part);
      if (problem !== undefined) {
        ctx.addIssue({ code: 'custom', message: `table "${spelled}": ${problem}` });
        return z.NEVER;
      }
    }
    return { schema: schema ?? 'public', name: name ?? '' };
  }),
);

const columnType = z.pipe(
  z.string(),
  z.transform((spelled, payload) => {
    const parsed = parseColumnType(spelled);
    if (typeof parsed === 'string') {
      issueSink(payload).addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  }),
);

/** One ASCII character: the CSV scanner works on bytes, and a line break would make rows ambiguous. */
const singleCharacter = z.string().check(
  z.refine((value) => /^[\x00-\x7f]$/.test(value) && !/[\r\n]/.test(value), {
    error: (issue) =>
      `must be a single ASCII character other than a line break, got ${JSON.stringify(issue.input)}`,
  }),
);

/** `auto`, or the one character: `auto` picks `,` `;` tab or `|` by the file's header. */
const delimiter = z.string().check(
  z.refine((value) => value === 'auto' || (/^[\x00-\x7f]$/.test(value) && !/[\r\n]/.test(value)), {
    error: (issue) =>
      `must be auto or a single ASCII character other than a line break, got ${JSON.stringify(issue.input)}`,
  }),
);

/** The spellings people write (WHATWG labels, Python's and PostgreSQL's names), each to its one name. */
const ENCODING_ALIASES: Record<string, string> = {
  'utf-8': 'utf8',
  'utf-16le': 'utf16le',
  'utf-16be': 'utf16be',
  'windows-1252': 'windows1252',
  cp1252: 'windows1252',
  win1252: 'windows1252',
  'iso-8859-1': 'latin1',
  'latin-1': 'latin1',
  iso88591: 'latin1',
};

const csvOptions = strict({
  delimiter: z.optional(delimiter),
  quote: z.optional(singleCharacter),
  escape: z.optional(singleCharacter),
  header: z.optional(z.boolean()),
  encoding: z.optional(
    z.pipe(
      z.transform((value: unknown) =>
        typeof value === 'string' ? (ENCODING_ALIASES[value.toLowerCase()] ?? value.toLowerCase()) : value,
      ),
      z.enum(['auto', ...TEXT_ENCODINGS]),
    ),
  ),
});
export type RawCsvOptions = z.output<typeof csvOptions>;

/** A whole number from `least` up (a number first, so that a string is "expected a number"). */
const wholeFrom = (least: number) => z.number().check(z.int(), z.minimum(least));

const xlsxOptions = strict({
  sheet: z.optional(z.union([text, wholeFrom(1)])),
  headerRow: z.optional(wholeFrom(1)),
});

/** The decimal mark of numbers written as text: `,` reads `1.234,56` (and `1234,56`); `.` is the default. */
const decimalSeparator = z.enum(['.', ',']);

const column = strict({
  name: identifier,
  type: columnType,
  source: z.optional(text),
  nullable: z.optional(z.boolean()),
  // Raw input text, so a YAML number or boolean means its spelling.
  default: z.optional(
    z.pipe(
      z.union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' }),
      z.transform(String),
    ),
  ),
  format: z.optional(text),
  decimalSeparator: z.optional(decimalSeparator),
});
export type RawColumn = z.output<typeof column>;

const ratio = z.number().check(z.minimum(0), z.maximum(1));

const rejects = strict({
  maxRatio: z.optional(ratio),
  maxRejects: z.optional(wholeFrom(0)),
});

/** mode: replace only (checked in pipeline.ts); `{ minRows: 0, minRatio: 0 }` turns the guard off. */
const replaceGuard = strict({
  minRows: z.optional(wholeFrom(0)),
  minRatio: z.optional(ratio),
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timezone = z.string().check(
  z.refine(isTimeZone, {
    error: (issue) =>
      `unknown time zone ${JSON.stringify(issue.input)}; use an IANA name such as UTC or Europe/Paris`,
  }),
);

export const rawPipeline = strict({
  name: z
    .string()
    .check(
      z.regex(
        PIPELINE_NAME,
        'must use only lowercase letters, digits, "_" and "-" (it is typed on command lines)',
      ),
    ),
  match: z._default(oneOrMany(text, 'a glob'), []),
  format: z._default(z.enum(['auto', 'csv', 'tsv', 'ndjson', 'json', 'parquet', 'xlsx']), 'auto'),
  compression: z.optional(z.enum(['auto', 'gzip', 'deflate', 'brotli', 'zip', 'none'])),
  csv: z.optional(csvOptions),
  tsv: z.optional(csvOptions),
  xlsx: z.optional(xlsxOptions),
  table: tableName,
  createTable: z._default(z.boolean(), false),
  mode: z._default(z.enum(['append', 'upsert', 'replace']), 'append'),
  key: z._default(oneOrMany(text, 'a column name'), []),
  columns: z.optional(z.array(column).check(z.minLength(1, 'must list at least one column'))),
  infer: z._default(z.boolean(), false),
  rejects: z.optional(rejects),
  replace: z.optional(replaceGuard),
  duplicateKeys: z._default(z.enum(['last', 'reject']), 'last'),
  timezone: z._default(timezone, 'UTC'),
  decimalSeparator: z.optional(decimalSeparator),
  // `freeze` is dlt's and Airbyte's word for `reject`: the contract does not move.
  onDrift: z._default(
    z.pipe(
      z.enum(['reject', 'freeze', 'ignoreExtra', 'discardRow', 'evolve']),
      z.transform((value) => (value === 'freeze' ? 'reject' : value)),
    ),
    'reject',
  ),
  afterLoad: z._default(z.enum(['none', 'tag', 'move']), 'none'),
  serverless: z.optional(
    strict({
      maxLambdaBytes: z.optional(z.number().check(z.int(), z.positive())),
    }),
  ),
  limits: z.optional(
    strict({
      maxDecompressedBytes: z.optional(z.number().check(z.int(), z.positive())),
      maxCompressionRatio: z.optional(z.number().check(z.minimum(1))),
    }),
  ),
});
export type RawPipeline = z.output<typeof rawPipeline>;
