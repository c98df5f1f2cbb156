/**
 * Schema drift: a file whose header (CSV, XLSX) or fields (Parquet schema, JSON records) differ from
 * the contract. Columns are matched by name (exactly, then ignoring case and surrounding spaces), so
 * reordered columns are fine. Missing and unexpected columns are never guessed at: the file is
 * rejected with a precise diff, or with `onDrift: ignoreExtra` extra columns are skipped and missing
 * ones filled with NULL (or their default) when the contract allows it.
 *
 * Names from a file are only ever compared with the contract's sources, never used as SQL, so a
 * hostile header cannot reach the database.
 */

import { FormatError } from '../../errors.js';
import { CONTRACT_SAMPLE_ROWS } from '../../infer/sample-size.js';
import type { Pipeline } from '../../model/contract.js';
import { closest } from '../../model/suggest.js';

export interface DriftReport {
  /** Contract sources the file lacks. */
  readonly missing: readonly string[];
  /** File columns the contract does not name. */
  readonly unexpected: readonly string[];
  /** Likely renames: an unexpected column that is close to a missing one. */
  readonly renamed: readonly { readonly from: string; readonly to: string }[];
  /** Contract sources the file names more than once. */
  readonly repeated: readonly string[];
  /**
   * What Inlet did: refused the file; loaded it skipping extras and filling missing columns (`ignored`);
   * or loaded it so, rejecting the rows with a value in an extra column (`discardRow`).
   */
  readonly action: 'rejected' | 'ignored' | 'discardRow';
}

/** A file refused for drift; `drift` goes into the ledger's `details` so every front door shows it. */
export class DriftError extends FormatError {
  constructor(
    message: string,
    readonly drift: DriftReport,
    location: { source: string; line?: number; record?: number },
  ) {
    super('schema_drift', message, { location });
  }
}

export interface FieldMatch {
  /** For each contract column, the file column it reads, or -1 (filled with NULL or its default). */
  readonly mapping: Int32Array;
  /** Present when the file differs from the contract and was loaded anyway (onDrift: ignoreExtra, discardRow). */
  readonly drift: DriftReport | undefined;
  /** Under onDrift: discardRow, the file columns the contract does not name: a row with a value in one is rejected. */
  readonly extra: readonly number[];
}

export interface DriftContext {
  readonly source: string;
  /** e.g. `The header (line 1)`, `The Parquet schema`, `The header of sheet "Orders" (row 2)`. */
  readonly what: string;
  readonly line?: number;
  readonly record?: number;
}

const normalise = (name: string) => name.trim().toLowerCase();

/** How a file's fields pair with a contract's columns, by name: exactly, then ignoring case and surrounding spaces. */
interface Pairing {
  /** For each contract column, the file column it reads, or -1. */
  readonly mapping: Int32Array;
  /** File columns the contract does not read (a second copy of one it reads is repeated, not unexpected). */
  readonly unexpected: readonly string[];
  /** Contract sources the file names more than once. */
  readonly repeated: readonly string[];
  /** The file columns some contract column reads. */
  readonly used: ReadonlySet<number>;
}

function pairFields(fields: readonly string[], columns: Pipeline['columns']): Pairing {
  const exact = new Map<string, number>();
  const loose = new Map<string, number>();
  const seen = new Set<string>();
  const repeatedNames = new Set<string>();
  fields.forEach((name, i) => {
    if (seen.has(name)) repeatedNames.add(name);
    seen.add(name);
    if (!exact.has(name)) exact.set(name, i);
    if (!loose.has(normalise(name))) loose.set(normalise(name), i);
  });
  const mapping = new Int32Array(columns.length);
  const used = new Set<number>();
  columns.forEach((column, c) => {
    const index = exact.get(column.source) ?? loose.get(normalise(column.source));
    if (index !== undefined) used.add(index);
    mapping[c] = index ?? -1;
  });
  const unexpected = fields.filter(
    (name, i) => !used.has(i) && !(repeatedNames.has(name) && used.has(exact.get(name) as number)),
  );
  const repeated = [...repeatedNames].filter((name) => columns.some((c) => c.source === name));
  return { mapping, unexpected, repeated, used };
}

/** The file's columns no contract column reads, matched as matchFields matches them: what `onDrift: evolve` adds. */
export function unexpectedFields(fields: readonly string[], columns: Pipeline['columns']): readonly string[] {
  return pairFields(fields, columns).unexpected;
}

/** Maps contract columns to file columns by name, or throws a DriftError with the diff. */
export function matchFields(
  fields: readonly string[],
  pipeline: Pipeline,
  context: DriftContext,
): FieldMatch {
  const { mapping, unexpected, repeated, used } = pairFields(fields, pipeline.columns);
  const missing: string[] = [];
  const unfillable: string[] = [];
  pipeline.columns.forEach((column, c) => {
    if (mapping[c] !== -1) return;
    missing.push(column.source);
    if (!column.nullable && column.default === undefined) unfillable.push(column.source);
  });
  if (missing.length === 0 && unexpected.length === 0 && repeated.length === 0) {
    return { mapping, drift: undefined, extra: [] };
  }
  const renamed = guessRenames(unexpected, missing);
  const lenient = pipeline.onDrift !== 'reject' && repeated.length === 0 && unfillable.length === 0;
  const discarding = pipeline.onDrift === 'discardRow';
  const report: DriftReport = {
    missing,
    unexpected,
    renamed,
    repeated,
    action: lenient ? (discarding ? 'discardRow' : 'ignored') : 'rejected',
  };
  if (lenient) {
    const extra = discarding ? fields.flatMap((_, i) => (used.has(i) ? [] : [i])) : [];
    return { mapping, drift: report, extra };
  }
  throw new DriftError(driftMessage(report, pipeline, context, unfillable), report, {
    source: context.source,
    ...(context.line === undefined ? {} : { line: context.line }),
    ...(context.record === undefined ? {} : { record: context.record }),
  });
}

/** Why a row is rejected under onDrift: discardRow, or under evolve for a JSON field first seen past the sample. */
export function extraValueReason(name: string, onDrift: Pipeline['onDrift'] = 'discardRow'): string {
  return onDrift === 'evolve'
    ? `has a value in field ${quote(name)}, which the contract does not name and the records the contract evolves from did not have (onDrift: evolve adds a field found in a file's first ${CONTRACT_SAMPLE_ROWS.toLocaleString('en-US')} records); send these rows again in a file whose first records have it`
    : `has a value in column ${quote(name)}, which the contract does not name (onDrift: discardRow)`;
}

/** A JSON record with fields the contract does not name (onDrift: reject); `absent` are the contract fields it lacks. */
export function extraFieldsError(
  unexpected: readonly string[],
  absent: readonly string[],
  pipeline: Pipeline,
  context: DriftContext,
): DriftError {
  const report: DriftReport = {
    missing: [],
    unexpected,
    renamed: guessRenames(unexpected, absent),
    repeated: [],
    action: 'rejected',
  };
  return new DriftError(
    `${context.what} does not match pipeline "${pipeline.name}": ${describeDrift(report)}. ` +
      "Fix the file or update the pipeline's columns (onDrift: ignoreExtra skips fields the contract does not name).",
    report,
    {
      source: context.source,
      ...(context.line === undefined ? {} : { line: context.line }),
      ...(context.record === undefined ? {} : { record: context.record }),
    },
  );
}

/** Pairs an unexpected column with a missing one when the names are close (a typo) or one abbreviates the other. */
function guessRenames(unexpected: readonly string[], missing: readonly string[]) {
  const renamed: { from: string; to: string }[] = [];
  const taken = new Set<string>();
  for (const from of unexpected) {
    const left = missing.filter((m) => !taken.has(m));
    const to = closest(from, left) ?? left.find((m) => abbreviates(from, m) || abbreviates(m, from));
    if (to !== undefined) {
      taken.add(to);
      renamed.push({ from, to });
    }
  }
  return renamed;
}

/** `amt` for `amount`, `qty` for `quantity`: same first letter, the short name's letters in order in the long one. */
function abbreviates(short: string, long: string): boolean {
  const a = short.toLowerCase().replace(/[^a-z0-9]/g, '');
  const b = long.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (a.length < 2 || a.length >= b.length || a[0] !== b[0]) return false;
  let i = 0;
  for (const ch of b) if (ch === a[i]) i++;
  return i === a.length;
}

/**
 * `missing column "amount" (expected by the contract); unexpected column "amt" (not in the contract;
 * did you mean "amount"?)`, then what to do.
 */
export function describeDrift(
  report: Pick<DriftReport, 'missing' | 'unexpected' | 'renamed' | 'repeated'>,
): string {
  const problems: string[] = [];
  if (report.repeated.length > 0) {
    problems.push(
      `column${plural(report.repeated)} ${list(report.repeated)} appear${report.repeated.length > 1 ? '' : 's'} more than once`,
    );
  }
  if (report.missing.length > 0) {
    problems.push(
      `missing column${plural(report.missing)} ${list(report.missing)} (expected by the contract)`,
    );
  }
  if (report.unexpected.length > 0) {
    const hints = report.renamed.map((r) =>
      report.unexpected.length === 1
        ? `did you mean ${quote(r.to)}?`
        : `${quote(r.from)} may be ${quote(r.to)}`,
    );
    problems.push(
      `unexpected column${plural(report.unexpected)} ${list(report.unexpected)} (not in the contract${
        hints.length > 0 ? `; ${hints.join(', ')}` : ''
      })`,
    );
  }
  return problems.join('; ');
}

function driftMessage(
  report: DriftReport,
  pipeline: Pipeline,
  context: DriftContext,
  unfillable: readonly string[],
): string {
  let advice = "Fix the file or update the pipeline's columns";
  if (pipeline.onDrift === 'reject' && report.unexpected.length > 0 && report.repeated.length === 0) {
    advice +=
      report.missing.length === 0
        ? ' (onDrift: ignoreExtra skips extra columns).'
        : unfillable.length === 0
          ? ' (onDrift: ignoreExtra skips extra columns and fills missing ones with NULL).'
          : '.';
  } else if (pipeline.onDrift !== 'reject' && unfillable.length > 0) {
    advice = `${list(unfillable)} ${unfillable.length > 1 ? 'are' : 'is'} NOT NULL without a default, so ${
      unfillable.length > 1 ? 'they' : 'it'
    } cannot be filled. ${advice}.`;
  } else {
    advice += '.';
  }
  return `${context.what} does not match pipeline "${pipeline.name}": ${describeDrift(report)}. ${advice}`;
}

function plural(names: readonly string[]): string {
  return names.length > 1 ? 's' : '';
}

function quote(name: string): string {
  return JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name);
}

export function list(names: readonly string[]): string {
  const shown = names.slice(0, 20).map(quote);
  return names.length > 20 ? `${shown.join(', ')} and ${names.length - 20} more` : shown.join(', ');
}
