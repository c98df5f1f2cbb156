/**
 * A proposed pipeline as YAML that the config loader reads as it is, with comments a person reviews:
 * how each type was decided, how sure the guess is, and the key candidate.
 */
import { FormatError } from '../errors.js';
import { type InferredColumn, keyCandidate } from './infer.js';
import type { Sample } from './sample.js';

export interface ProposalOptions {
  /** What the proposal was made from, for the header comment (`orders.csv`). */
  readonly file: string;
  /** The pipeline name. */
  readonly name: string;
  /** `schema.table`. */
  readonly table: string;
  /** Globs that route files to the pipeline. */
  readonly match: readonly string[];
  /** The options the sample was read with, repeated so the pipeline reads the file the same way. */
  readonly sheet?: string | number;
  readonly headerRow?: number;
}

const YAML_WORDS = /^(true|false|yes|no|on|off|y|n|null|~)$/i;

/** A YAML scalar: plain when that is unambiguous, else a JSON (double-quoted) string, which YAML reads. */
export function scalar(text: string): string {
  return /^[A-Za-z_][A-Za-z0-9_.]*$/.test(text) && !YAML_WORDS.test(text) ? text : JSON.stringify(text);
}

function columnLine(column: InferredColumn): string {
  const parts = [`name: ${scalar(column.name)}`, `type: ${scalar(column.type)}`];
  if (column.source !== column.name) parts.push(`source: ${JSON.stringify(column.source)}`);
  if (column.format !== undefined) parts.push(`format: ${JSON.stringify(column.format)}`);
  if (!column.nullable) parts.push('nullable: false');
  return `      - { ${parts.join(', ')} }`;
}

function comment(text: string): string {
  // One line per comment; a line break inside a value must not end the comment.
  return text.replace(/[\r\n]+/g, ' ');
}

export function renderProposal(
  sample: Sample,
  columns: readonly InferredColumn[],
  options: ProposalOptions,
): string {
  const lines: string[] = [];
  const scope = sample.complete ? `all ${sample.rows} rows` : `the first ${sample.rows} rows`;
  lines.push(`# Proposed by \`inlet infer\` from ${scope} of ${comment(options.file)}.`);
  lines.push('# Review every type (and the key) before loading: a sample can miss what later rows hold.');
  lines.push('pipelines:');
  lines.push(`  - name: ${scalar(options.name)}`);
  lines.push(`    match: [${options.match.map((m) => JSON.stringify(m)).join(', ')}]`);
  lines.push(`    format: ${sample.format}`);
  if (sample.compression === 'brotli') lines.push('    compression: brotli');
  // What was read, written down: a partner's export keeps its dialect, and the next file is read the same way.
  const csv: string[] = [];
  if (sample.format === 'csv' && sample.delimiter !== undefined && sample.delimiter !== ',')
    csv.push(`delimiter: ${JSON.stringify(sample.delimiter)}`);
  if (sample.encoding !== undefined && sample.encoding !== 'utf8') csv.push(`encoding: ${sample.encoding}`);
  if (csv.length > 0) lines.push(`    ${sample.format}: { ${csv.join(', ')} }`);
  if (sample.format === 'xlsx') {
    const xlsx = [`sheet: ${JSON.stringify(options.sheet ?? sample.sheet ?? 1)}`];
    if (options.headerRow !== undefined && options.headerRow !== 1)
      xlsx.push(`headerRow: ${options.headerRow}`);
    lines.push(`    xlsx: { ${xlsx.join(', ')} }`);
  }
  lines.push(`    table: ${scalar(options.table)}`);
  lines.push('    createTable: true');
  lines.push('    mode: append');
  lines.push('    columns:');
  let kept = 0;
  for (const column of columns) {
    const counts = `${column.values} value${column.values === 1 ? '' : 's'}${column.nulls > 0 ? `, ${column.nulls} empty` : ''}`;
    const why = column.notes.length > 0 ? `; ${column.notes.join('; ')}` : '';
    if (column.skip !== undefined) {
      lines.push(`      # left out: ${JSON.stringify(column.source)} is ${comment(column.skip)}`);
      continue;
    }
    lines.push(`      # ${column.confidence} confidence: ${counts}${comment(why)}`);
    lines.push(columnLine(column));
    kept++;
  }
  if (kept === 0) {
    throw new FormatError(
      'infer_no_columns',
      `No column of ${options.file} can be read, so there is nothing to propose.`,
    );
  }
  const key = keyCandidate(columns);
  if (key !== undefined) {
    lines.push(
      `    # Key candidate: ${key.name} is unique and non-null in ${scope}. To update rows by it, use:`,
    );
    lines.push('    # mode: upsert');
    lines.push(`    # key: [${scalar(key.name)}]`);
  }
  return `${lines.join('\n')}\n`;
}
