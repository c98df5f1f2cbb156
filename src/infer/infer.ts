/**
 * Contract inference: for each sampled column, the narrowest PostgreSQL type every sampled value fits,
 * its nullability, and why (which values forced a wider type), with a confidence that says how much
 * the sample can be trusted. Values are judged as the coercers will read them at load time.
 */
import type { ParquetField } from '../formats/parquet/fields.js';
import { uniqueIdentifiers } from './identifiers.js';
import type { Sample, SampleCell, SampledField } from './sample.js';

export type Confidence = 'high' | 'medium' | 'low';

export interface InferredColumn {
  /** A safe identifier for the table column. */
  readonly name: string;
  /** The column's name in the file. */
  readonly source: string;
  /** The PostgreSQL type, as the config spells it: `bigint`, `numeric(12,2)`. */
  readonly type: string;
  /** A parse format the type needs (`DD/MM/YYYY`). */
  readonly format?: string;
  /** No value was empty in the sample. */
  readonly nullable: boolean;
  readonly values: number;
  readonly nulls: number;
  /** Every non-empty sampled value is different. */
  readonly unique: boolean;
  readonly confidence: Confidence;
  /** What decided the type, for people: `"1.50" (line 4) has decimals`. */
  readonly notes: readonly string[];
  /** The file says the column cannot be read; it is left out of the contract. */
  readonly skip?: string;
}

const INT = /^[+-]?(0|[1-9]\d*)$/;
const LEADING_ZERO = /^[+-]?0\d/;
const DECIMAL = /^[+-]?(0|[1-9]\d*)?\.\d*$/;
const EXPONENT = /^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$/;
const SPECIAL_FLOAT = /^[+-]?(nan|inf|infinity)$/i;
const BOOLEAN = /^(true|false|t|f|yes|no|y|n)$/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(:\d{2}(\.\d+)?)?(Z|z|[+-]\d{2}(:?\d{2})?)?$/;
const PATTERN_DATE = /^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})$/;
const YMD_SLASH = /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/;

/** Largest magnitudes: positive values, then negative ones. */
const SMALLINT = [32767n, 32768n] as const;
const INTEGER = [2147483647n, 2147483648n] as const;
const BIGINT = [9223372036854775807n, 9223372036854775808n] as const;

const fits = (range: readonly [bigint, bigint], positive: bigint, negative: bigint) =>
  positive <= range[0] && negative <= range[1];

type Witness = { readonly text: string; readonly where: string };

function validDay(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || year < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Statistics over one column's non-empty values, gathered in one pass. */
class ColumnStats {
  values = 0;
  nulls = 0;
  readonly distinct = new Set<string>();
  allBoolean = true;
  allInteger = true;
  allDecimal = true;
  allFloat = true;
  allDate = true;
  allTimestamp = true;
  allUuid = true;
  allJson = true;
  anyNested = false;
  anyOffset = false;
  dmy = true;
  mdy = true;
  dmyForced = false;
  mdyForced = false;
  shortParts = false;
  patternSeparator: string | undefined;
  allPattern = true;
  allYmdSlash = true;
  maxPositive = 0n;
  maxNegative = 0n;
  intDigits = 0;
  scale = 0;
  firstDecimal: Witness | undefined;
  firstExponent: Witness | undefined;
  firstLeadingZero: Witness | undefined;
  firstTimestamp: Witness | undefined;
  firstOffset: Witness | undefined;
  firstLocal: Witness | undefined;
  firstWide: { smallint?: Witness; integer?: Witness; bigint?: Witness } = {};
  firstNotNumber: Witness | undefined;
  firstNotTemporal: Witness | undefined;
  firstPatternDate: Witness | undefined;
  numberLike = 0;
  kinds = new Set<SampleCell['kind']>();

  add(cell: SampleCell | null, where: string): void {
    if (cell === null) {
      this.nulls++;
      return;
    }
    this.values++;
    this.kinds.add(cell.kind);
    if (this.distinct.size < 100_000) this.distinct.add(cell.text);
    const witness = { text: cell.text, where };
    if (cell.kind === 'nested') {
      this.anyNested = true;
      this.notScalar(witness);
      return;
    }
    const text = cell.kind === 'text' ? cell.text.trim() : cell.text;
    if (cell.kind === 'boolean') {
      this.allInteger = this.allDecimal = this.allFloat = false;
      this.notTemporal(witness);
      this.allUuid = this.allJson = false;
      return;
    }
    if (cell.kind === 'date' || cell.kind === 'datetime' || cell.kind === 'time') {
      this.allBoolean =
        this.allInteger =
        this.allDecimal =
        this.allFloat =
        this.allUuid =
        this.allJson =
          false;
      this.allPattern = this.allYmdSlash = false;
      if (cell.kind === 'time') {
        this.allDate = this.allTimestamp = false;
        this.firstNotTemporal ??= witness;
      } else if (cell.kind === 'datetime') {
        this.allDate = false;
        this.firstTimestamp ??= witness;
        this.firstLocal ??= witness;
      } else this.firstLocal ??= witness;
      return;
    }
    if (!BOOLEAN.test(text)) this.allBoolean = false;
    this.number(text, witness);
    this.temporal(text, witness);
    if (!UUID.test(text)) this.allUuid = false;
    if (!this.isJsonContainer(text)) this.allJson = false;
  }

  private notScalar(witness: Witness): void {
    this.allBoolean = this.allInteger = this.allDecimal = this.allFloat = this.allUuid = false;
    this.notTemporal(witness);
  }

  private notTemporal(witness: Witness): void {
    this.allDate = this.allTimestamp = this.allPattern = this.allYmdSlash = false;
    this.firstNotTemporal ??= witness;
  }

  private isJsonContainer(text: string): boolean {
    if (!(text.startsWith('{') || text.startsWith('['))) return false;
    try {
      JSON.parse(text);
      return true;
    } catch {
      return false;
    }
  }

  private number(text: string, witness: Witness): void {
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) this.numberLike++;
    if (INT.test(text)) {
      const magnitude = BigInt(text.replace(/^[+-]/, ''));
      const negative = text.startsWith('-');
      const positive = negative ? 0n : magnitude;
      const below = negative ? magnitude : 0n;
      if (positive > this.maxPositive) this.maxPositive = positive;
      if (below > this.maxNegative) this.maxNegative = below;
      const digits = text.replace(/^[+-]/, '').replace(/^0+/, '').length;
      this.intDigits = Math.max(this.intDigits, digits);
      if (!fits(SMALLINT, positive, below)) this.firstWide.smallint ??= witness;
      if (!fits(INTEGER, positive, below)) this.firstWide.integer ??= witness;
      if (!fits(BIGINT, positive, below)) this.firstWide.bigint ??= witness;
      return;
    }
    this.allInteger = false;
    if (LEADING_ZERO.test(text) && /^[+-]?\d+(\.\d*)?$/.test(text)) {
      this.firstLeadingZero ??= witness;
      this.allDecimal = this.allFloat = false;
      this.firstNotNumber ??= witness;
      return;
    }
    if (DECIMAL.test(text) && /\d/.test(text)) {
      const [whole = '', fraction = ''] = text.replace(/^[+-]/, '').split('.');
      this.intDigits = Math.max(this.intDigits, whole.replace(/^0+/, '').length);
      this.scale = Math.max(this.scale, fraction.length);
      this.firstDecimal ??= witness;
      return;
    }
    this.allDecimal = false;
    if (EXPONENT.test(text) || SPECIAL_FLOAT.test(text)) {
      this.firstExponent ??= witness;
      return;
    }
    this.allFloat = false;
    this.firstNotNumber ??= witness;
  }

  private temporal(text: string, witness: Witness): void {
    const date = ISO_DATE.exec(text);
    if (date) {
      if (!validDay(Number(date[1]), Number(date[2]), Number(date[3]))) this.notTemporal(witness);
      else this.firstLocal ??= witness;
      this.allPattern = this.allYmdSlash = false;
      return;
    }
    this.allDate = false;
    const stamp = ISO_TIMESTAMP.exec(text);
    if (stamp) {
      if (
        !validDay(Number(stamp[1]), Number(stamp[2]), Number(stamp[3])) ||
        Number(stamp[4]) > 23 ||
        Number(stamp[5]) > 59
      ) {
        this.notTemporal(witness);
        return;
      }
      this.firstTimestamp ??= witness;
      if (stamp[8] !== undefined) {
        this.anyOffset = true;
        this.firstOffset ??= witness;
      } else this.firstLocal ??= witness;
      this.allPattern = this.allYmdSlash = false;
      return;
    }
    this.allTimestamp = false;
    this.pattern(text, witness);
  }

  /** `31/01/2024`, `1.2.2024`, `01-31-2024`: day or month first, decided by values past 12. */
  private pattern(text: string, witness: Witness): void {
    const slashYmd = YMD_SLASH.exec(text);
    if (!slashYmd || !validDay(Number(slashYmd[1]), Number(slashYmd[2]), Number(slashYmd[3])))
      this.allYmdSlash = false;
    const match = PATTERN_DATE.exec(text);
    if (!match) {
      this.allPattern = false;
      if (!this.allYmdSlash) this.firstNotTemporal ??= witness;
      return;
    }
    this.firstPatternDate ??= witness;
    const [, a = '', separator, b = '', year = ''] = match;
    if (this.patternSeparator !== undefined && this.patternSeparator !== separator) this.allPattern = false;
    this.patternSeparator = separator;
    if (a.length === 1 || b.length === 1) this.shortParts = true;
    const first = Number(a);
    const second = Number(b);
    if (!validDay(Number(year), second, first)) this.dmy = false;
    if (!validDay(Number(year), first, second)) this.mdy = false;
    if (first > 12) this.dmyForced = true;
    if (second > 12) this.mdyForced = true;
    if (!this.dmy && !this.mdy) {
      this.allPattern = false;
      this.firstNotTemporal ??= witness;
    }
  }
}

function show(witness: Witness | undefined): string {
  if (witness === undefined) return '';
  const text = witness.text.length > 40 ? `${witness.text.slice(0, 40)}…` : witness.text;
  return `${JSON.stringify(text)} (${witness.where})`;
}

interface Decision {
  type: string;
  format?: string;
  notes: string[];
  ambiguous?: boolean;
}

function decide(stats: ColumnStats): Decision {
  if (stats.values === 0)
    return { type: 'text', notes: ['no values in the sample: text is a guess'], ambiguous: true };
  if (stats.anyNested) return { type: 'jsonb', notes: ['holds nested objects or arrays'] };
  if (stats.allBoolean) return { type: 'boolean', notes: [] };
  if (stats.allInteger) {
    const [positive, negative] = [stats.maxPositive, stats.maxNegative];
    if (fits(SMALLINT, positive, negative)) return { type: 'smallint', notes: [] };
    if (fits(INTEGER, positive, negative))
      return { type: 'integer', notes: [`${show(stats.firstWide.smallint)} is past smallint`] };
    if (fits(BIGINT, positive, negative))
      return { type: 'bigint', notes: [`${show(stats.firstWide.integer)} is past integer`] };
    return {
      type: `numeric(${Math.min(1000, stats.intDigits)},0)`,
      notes: [`${show(stats.firstWide.bigint)} is past bigint`],
    };
  }
  if (stats.allDecimal && stats.intDigits + stats.scale <= 1000) {
    const precision = Math.max(1, stats.intDigits + stats.scale);
    return {
      type: `numeric(${precision},${stats.scale})`,
      notes: [`${show(stats.firstDecimal)} has decimals`],
    };
  }
  if (stats.allFloat)
    return {
      type: 'double precision',
      notes: [`${show(stats.firstExponent)} is in exponent notation or not finite`],
    };
  if (stats.allDate) return { type: 'date', notes: [] };
  if (stats.allTimestamp) {
    if (stats.anyOffset) {
      const notes = [`${show(stats.firstOffset)} has a time zone offset`];
      if (stats.firstLocal) notes.push(`${show(stats.firstLocal)} has none: read in the pipeline's timezone`);
      return { type: 'timestamptz', notes };
    }
    return {
      type: 'timestamp',
      notes: stats.firstTimestamp ? [`${show(stats.firstTimestamp)} has a time of day`] : [],
    };
  }
  if (stats.allYmdSlash) return { type: 'date', format: 'YYYY/M/D', notes: ['dates written YYYY/MM/DD'] };
  if (stats.allPattern && (stats.dmy || stats.mdy)) {
    const sep = stats.patternSeparator ?? '/';
    const dayFirst = stats.dmy && (stats.dmyForced || !stats.mdy || !stats.mdyForced);
    const [d, m] = stats.shortParts ? ['D', 'M'] : ['DD', 'MM'];
    const format = dayFirst ? `${d}${sep}${m}${sep}YYYY` : `${m}${sep}${d}${sep}YYYY`;
    const decided = dayFirst ? stats.dmyForced : stats.mdyForced;
    return {
      type: 'date',
      format,
      notes: decided
        ? [`day and month order decided by values past 12`]
        : [`ambiguous: no day past 12, so ${format} is a guess (it could be the other order)`],
      ambiguous: !decided,
    };
  }
  if (stats.allUuid) return { type: 'uuid', notes: [] };
  if (stats.allJson) return { type: 'jsonb', notes: ['every value is a JSON object or array'] };
  const notes: string[] = [];
  if (stats.firstLeadingZero) notes.push(`${show(stats.firstLeadingZero)} has leading zeros: kept as text`);
  else if (stats.firstLocal && stats.firstPatternDate) {
    notes.push(
      `mixed date formats: ${show(stats.firstLocal)} and ${show(stats.firstPatternDate)}: kept as text`,
    );
  } else if (stats.numberLike > 0 && stats.firstNotNumber)
    notes.push(`${show(stats.firstNotNumber)} is not a number`);
  else if (stats.firstNotTemporal && (stats.firstLocal || stats.firstTimestamp || stats.firstPatternDate)) {
    notes.push(`${show(stats.firstNotTemporal)} is not a date like the others`);
  }
  return { type: 'text', notes };
}

/** The PostgreSQL type a Parquet column's declared type maps to. */
export function parquetType(field: ParquetField): { type: string; note: string } | { skip: string } {
  const t = field.type;
  const declared = `declared ${field.spelled}`;
  switch (t.kind) {
    case 'boolean':
      return { type: 'boolean', note: declared };
    case 'integer':
      if (t.bits <= 16 && (t.signed || t.bits === 8)) return { type: 'smallint', note: declared };
      if (t.bits <= 32 && (t.signed || t.bits === 16)) return { type: 'integer', note: declared };
      if (t.bits <= 64 && (t.signed || t.bits === 32)) return { type: 'bigint', note: declared };
      return { type: 'numeric(20,0)', note: declared };
    case 'float':
      return { type: t.single ? 'real' : 'double precision', note: declared };
    case 'decimal':
      return {
        type: `numeric(${Math.min(1000, Math.max(1, t.precision))},${Math.min(t.scale, t.precision)})`,
        note: declared,
      };
    case 'string':
    case 'binary':
      return { type: 'text', note: declared };
    case 'json':
    case 'nested':
      return { type: 'jsonb', note: declared };
    case 'uuid':
      return { type: 'uuid', note: declared };
    case 'date':
      return { type: 'date', note: declared };
    case 'timestamp':
      return { type: t.utc ? 'timestamptz' : 'timestamp', note: declared };
    case 'int96':
      return { type: 'timestamptz', note: `${declared} (a legacy instant)` };
    case 'time':
      return { type: 'text', note: `${declared}: no time-of-day type in contracts, kept as HH:MM:SS text` };
    case 'unsupported':
      return { skip: `${declared}, which Inlet cannot read` };
  }
}

function confidenceOf(stats: ColumnStats, decision: Decision, complete: boolean): Confidence {
  if (decision.ambiguous) return 'low';
  if (complete || stats.values >= 100) return 'high';
  return stats.values >= 10 ? 'medium' : 'low';
}

export function inferColumns(sample: Sample): InferredColumn[] {
  const names = uniqueIdentifiers(sample.fields.map((f) => f.name));
  return sample.fields.map((field, i) => inferColumn(field, names[i] as string, sample));
}

function inferColumn(field: SampledField, name: string, sample: Sample): InferredColumn {
  const stats = new ColumnStats();
  field.values.forEach((cell, row) => {
    stats.add(cell, sample.where[row] ?? `record ${row + 1}`);
  });
  const base = {
    name,
    source: field.name,
    values: stats.values,
    nulls: stats.nulls,
    unique: stats.values > 0 && stats.distinct.size === stats.values,
  };
  if (field.declared !== undefined) {
    const mapped = parquetType(field.declared);
    if ('skip' in mapped) {
      return {
        ...base,
        type: 'text',
        nullable: true,
        confidence: 'high',
        notes: [mapped.skip],
        skip: mapped.skip,
      };
    }
    return {
      ...base,
      type: mapped.type,
      nullable: field.declared.nullable && (stats.nulls > 0 || stats.values === 0 || !sample.complete),
      confidence: 'high',
      notes: [mapped.note],
    };
  }
  const decision = decide(stats);
  return {
    ...base,
    type: decision.type,
    ...(decision.format === undefined ? {} : { format: decision.format }),
    nullable: stats.nulls > 0 || stats.values === 0,
    confidence: confidenceOf(stats, decision, sample.complete),
    notes: decision.notes.filter((note) => note !== ''),
  };
}

const KEY_TYPES = /^(smallint|integer|bigint|uuid|text|numeric\(\d+,0\))$/;
const KEY_NAMES = /^(id|key|code|uuid)$|_(id|key|code|uuid|no|number)$|^(id|key)_/;

/** A column unique and non-null in the sample, preferring one named like an identifier. */
export function keyCandidate(columns: readonly InferredColumn[]): InferredColumn | undefined {
  const eligible = columns.filter(
    (c) => !c.skip && c.unique && c.nulls === 0 && c.values >= 2 && KEY_TYPES.test(c.type),
  );
  return eligible.find((c) => KEY_NAMES.test(c.name)) ?? eligible.find((c) => c.type !== 'text');
}
