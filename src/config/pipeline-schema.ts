/**
 * The keys of one pipeline in inlet.config.yaml, field by field, as zod schemas (every key is described in
 * docs/configuration.md). Their output is the raw pipeline that pipeline.ts checks across fields and turns
 * into the engine's Pipeline; schema.ts puts the two together. Kept apart from schema.ts so that
 * pipeline.ts can name these types without the two files importing each other.
 */
import { z } from 'zod';
import { MAX_IDENTIFIER_BYTES } from '../db/sql.js';
import { parseColumnType } from '../model/column-type.js';
import { PIPELINE_NAME } from '../model/contract.js';
import { strict } from './strict-object.js';

/** YAML users write `match: "*.csv"` as often as `match: ["*.csv"]`; both mean a list. */
function oneOrMany<T extends z.ZodType>(item: T, what: string) {
  return z.preprocess(
    (value) => (typeof value === 'string' ? [value] : value),
    z.array(item, {
      error: (issue) => (issue.code === 'invalid_type' ? `expected ${what} or a list of them` : undefined),
    }),
  );
}

const text = z.string().min(1, 'must not be empty');

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

const identifier = z.string().superRefine((name, ctx) => {
  const problem = identifierProblem(name);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});

const tableName = z.string().transform((spelled, ctx) => {
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
});

const columnType = z.string().transform((spelled, ctx) => {
  const parsed = parseColumnType(spelled);
  if (typeof parsed === 'string') {
    ctx.addIssue({ code: 'custom', message: parsed });
    return z.NEVER;
  }
  return parsed;
});

/** One ASCII character: the CSV scanner works on bytes, and a line break would make rows ambiguous. */
const singleCharacter = z.string().refine((value) => /^[\x00-\x7f]$/.test(value) && !/[\r\n]/.test(value), {
  error: (issue) =>
    `must be a single ASCII character other than a line break, got ${JSON.stringify(issue.input)}`,
});

const ENCODING_ALIASES: Record<string, string> = {
  'utf-8': 'utf8',
  'iso-8859-1': 'latin1',
  'latin-1': 'latin1',
};

const csvOptions = strict({
  delimiter: singleCharacter.optional(),
  quote: singleCharacter.optional(),
  escape: singleCharacter.optional(),
  header: z.boolean().optional(),
  encoding: z
    .preprocess(
      (value) =>
        typeof value === 'string' ? (ENCODING_ALIASES[value.toLowerCase()] ?? value.toLowerCase()) : value,
      z.enum(['utf8', 'latin1']),
    )
    .optional(),
});
export type RawCsvOptions = z.output<typeof csvOptions>;

const xlsxOptions = strict({
  sheet: z.union([text, z.number().int().min(1)]).optional(),
  headerRow: z.number().int().min(1).optional(),
});

const column = strict({
  name: identifier,
  type: columnType,
  source: text.optional(),
  nullable: z.boolean().optional(),
  // Raw input text, so a YAML number or boolean means its spelling.
  default: z
    .union([z.string(), z.number(), z.boolean()], { error: 'expected a string, number or boolean' })
    .transform(String)
    .optional(),
  format: text.optional(),
});
export type RawColumn = z.output<typeof column>;

const rejects = strict({
  maxRatio: z.number().min(0).max(1).optional(),
  maxRejects: z.number().int().min(0).optional(),
});

/** mode: replace only (checked in pipeline.ts); `{ minRows: 0, minRatio: 0 }` turns the guard off. */
const replaceGuard = strict({
  minRows: z.number().int().min(0).optional(),
  minRatio: z.number().min(0).max(1).optional(),
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const timezone = z.string().refine(isTimeZone, {
  error: (issue) =>
    `unknown time zone ${JSON.stringify(issue.input)}; use an IANA name such as UTC or Europe/Paris`,
});

export const rawPipeline = strict({
  name: z
    .string()
    .regex(
      PIPELINE_NAME,
      'must use only lowercase letters, digits, "_" and "-" (it is typed on command lines)',
    ),
  match: oneOrMany(text, 'a glob').default([]),
  format: z.enum(['auto', 'csv', 'tsv', 'ndjson', 'json', 'parquet', 'xlsx']).default('auto'),
  compression: z.enum(['auto', 'gzip', 'deflate', 'brotli', 'zip', 'none']).optional(),
  csv: csvOptions.optional(),
  tsv: csvOptions.optional(),
  xlsx: xlsxOptions.optional(),
  table: tableName,
  createTable: z.boolean().default(false),
  mode: z.enum(['append', 'upsert', 'replace']).default('append'),
  key: oneOrMany(text, 'a column name').default([]),
  columns: z.array(column).min(1, 'must list at least one column').optional(),
  infer: z.boolean().default(false),
  rejects: rejects.optional(),
  replace: replaceGuard.optional(),
  duplicateKeys: z.enum(['last', 'reject']).default('last'),
  timezone: timezone.default('UTC'),
  onDrift: z.enum(['reject', 'ignoreExtra']).default('reject'),
  afterLoad: z.enum(['none', 'tag', 'move']).default('none'),
  limits: strict({
    maxDecompressedBytes: z.number().int().positive().optional(),
    maxCompressionRatio: z.number().min(1).optional(),
  }).optional(),
});
export type RawPipeline = z.output<typeof rawPipeline>;
